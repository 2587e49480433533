import {
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { recordInvalid } from '../shared/errors';
import type { ReleaseRecord, ReleaseRecordStore } from '../shared/ports';
import { isColor, type Color, type RecordParameterNames } from '../shared/release-record';

/** The release record in SSM Parameter Store: one GetParameters call for the whole record. */
export class SsmReleaseRecordStore implements ReleaseRecordStore {
  static create(config: SSMClientConfig, names: RecordParameterNames): SsmReleaseRecordStore {
    return new SsmReleaseRecordStore(new SSMClient(config), names);
  }

  constructor(
    private readonly ssm: SSMClient,
    private readonly names: RecordParameterNames,
  ) {}

  async read(): Promise<ReleaseRecord> {
    const wanted = [this.names.liveColor, this.names.image.blue, this.names.image.green];
    const out = await this.ssm.send(new GetParametersCommand({ Names: wanted }));
    const values = new Map((out.Parameters ?? []).map((p) => [p.Name, p.Value]));
    const missing = wanted.filter((n) => values.get(n) === undefined);
    if (missing.length > 0) {
      throw recordInvalid(
        `The release record is incomplete: ${missing.join(', ')} not found in SSM. Deploy the record stack ` +
          '(npx cdk deploy --all) before running a release.',
      );
    }
    const liveColor = values.get(this.names.liveColor);
    if (!isColor(liveColor)) {
      throw recordInvalid(
        `The release record ${this.names.liveColor} holds "${liveColor}", not "blue" or "green". Set it to ` +
          'the color the production listener forwards to.',
      );
    }
    return {
      liveColor,
      images: { blue: values.get(this.names.image.blue)!, green: values.get(this.names.image.green)! },
    };
  }

  /** The image first (it is only read for the color it names), the live color last. */
  async write(update: { liveColor: Color; image?: { color: Color; image: string } }): Promise<void> {
    if (update.image) {
      await this.put(this.names.image[update.image.color], update.image.image);
    }
    await this.put(this.names.liveColor, update.liveColor);
  }

  private async put(name: string, value: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
    );
  }
}
