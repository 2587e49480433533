// Jest snapshot serializer: masks CDK asset hashes, so a snapshot changes only when behaviour does.
const HASH = /[0-9a-f]{64}(\.(zip|json))?/g;
module.exports = {
  test: (value) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value) => JSON.stringify(value.replace(HASH, '[HASH REMOVED]$1')),
};
