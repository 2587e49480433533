import { causeMessage, parseReleaseInput } from '../../../lambda/shared/release';
import { SETTINGS } from '../../support/run-workflow';

const REPO = SETTINGS.imageRepository;

describe('parseReleaseInput', () => {
  test('the version is the tag, or the digest; overrides replace the default timings', () => {
    expect(parseReleaseInput({ image: `${REPO}:v2.1`, bakeSeconds: 30 }, SETTINGS)).toEqual({
      image: `${REPO}:v2.1`,
      version: 'v2.1',
      timings: { ...SETTINGS.timings, bakeSeconds: 30 },
      strategy: { type: 'all-at-once' },
      dryRun: false,
    });
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(parseReleaseInput({ image: `${REPO}@${digest}`, version: '2.1.0' }, SETTINGS).version).toBe(
      '2.1.0',
    );
    expect(parseReleaseInput({ image: `${REPO}@${digest}` }, SETTINGS).version).toBe(digest);
  });

  test.each([
    [{}, 'image: is required'],
    [{ image: 42 }, 'image: must be a string'],
    [{ image: `${REPO}:` }, `image: must be "${REPO}:<tag>"`],
    [
      { image: `${REPO}:v2`, failureThreshold: 0 },
      'failureThreshold: must be a whole number from 1 to 100 (got 0)',
    ],
    [
      { image: `${REPO}:v2`, deployTimeoutSeconds: 10 },
      'deployTimeoutSeconds: must be a whole number from 60 to 7200 (got 10)',
    ],
    [{ image: `${REPO}:v2`, version: '' }, 'version: must be 1-128 visible characters (got "")'],
    ['just a string', 'input: must be an object like {"image"'],
  ])('%j is refused with InvalidInput naming the field', (input, expected) => {
    expect(() => parseReleaseInput(input, SETTINGS)).toThrow(
      expect.objectContaining({ name: 'InvalidInput', message: expect.stringContaining(expected) }),
    );
  });
});

describe('the release must fit the state machine’s timeout and history', () => {
  test('too long for the timeout is refused up front', () => {
    expect(() => parseReleaseInput({ image: `${REPO}:v2`, bakeSeconds: 7200 }, SETTINGS)).toThrow(
      /bakeSeconds \+ finishDelaySeconds \(\+600s for the other steps\) = 8220s, over the release timeout of 7200s/,
    );
  });
  test('too many polling loops for the history is refused up front', () => {
    const settings = { ...SETTINGS, maxReleaseSeconds: 86_400 };
    expect(() =>
      parseReleaseInput({ image: `${REPO}:v2`, bakeSeconds: 30_000, watchIntervalSeconds: 1 }, settings),
    ).toThrow(/30008 polling loops .* would write about 300280 history events, over Step Functions' 25000/);
  });
});

describe('causeMessage', () => {
  test('reads errorMessage from a Lambda error cause, passes plain text through', () => {
    expect(causeMessage('{"errorType":"DeployFailed","errorMessage":"it crashed","trace":[]}')).toBe(
      'it crashed',
    );
    expect(causeMessage('plain words')).toBe('plain words');
    expect(causeMessage(undefined)).toBe('');
  });
});
