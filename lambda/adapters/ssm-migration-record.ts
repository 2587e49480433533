import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { recordInvalid } from '../shared/errors';
import type { MigrationRecord, MigrationState } from '../shared/ports';

/**
 * The migration record in SSM Parameter Store: one JSON String parameter. A missing parameter is an empty record
 * (no migration ran yet); the first write creates it.
 */
export class SsmMigrationRecord implements MigrationRecord {
  static create(config: SSMClientConfig, name: string): SsmMigrationRecord {
    return new SsmMigrationRecord(new SSMClient(config), name);
  }

  constructor(
    private readonly ssm: SSMClient,
    private readonly name: string,
  ) {}

  async read(): Promise<MigrationState> {
    let value: string | undefined;
    try {
      value = (await this.ssm.send(new GetParameterCommand({ Name: this.name }))).Parameter?.Value;
    } catch (e) {
      if (e instanceof ParameterNotFound || (e as Error).name === 'ParameterNotFound') {
        return {};
      }
      throw e;
    }
    return parseMigrationState(value ?? '{}', this.name);
  }

  async write(state: MigrationState): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({
        Name: this.name,
        Value: JSON.stringify(state),
        Type: 'String',
        Overwrite: true,
      }),
    );
  }
}

/** The record's JSON, checked field by field: a hand-edited value that is wrong says where. */
export function parseMigrationState(text: string, where: string): MigrationState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw recordInvalid(`The migration record ${where} is not JSON: ${text.slice(0, 80)}`);
  }
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw)) {
    throw recordInvalid(`The migration record ${where} must be a JSON object, not ${text.slice(0, 80)}`);
  }
  const check = (key: string, fields: string[]) => {
    const v = raw[key];
    if (v === undefined) {
      return;
    }
    if (!isObject(v)) {
      problems.push(`${key} must be an object`);
      return;
    }
    for (const f of fields) {
      if (typeof v[f] !== 'string') {
        problems.push(`${key}.${f} must be a string`);
      }
    }
  };
  check('contractPending', ['image', 'release', 'taskDefinition', 'since']);
  check('contracted', ['image', 'release', 'at']);
  if (problems.length > 0) {
    throw recordInvalid(
      `The migration record ${where} is invalid: ${problems.join('; ')}. Fix it, or set it to {} if no ` +
        'contract waits.',
    );
  }
  return raw;
}
