import {
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { recordInvalid } from '../shared/errors';
import { scalingNotConfigured } from './scaling-errors';
import type { ReleaseRecord, ReleaseRecordStore } from '../shared/ports';
import {
  formatRecordWeights,
  isColor,
  parseRecordWeights,
  type Color,
  type RecordParameterNames,
} from '../shared/release-record';
import { formatRecordedCapacity, parseRecordedCapacity, type RecordedCapacity } from '../shared/scaling';
import { weightsFor } from '../shared/strategy';
import type { TrafficWeights } from '../shared/traffic';

/** The release record in SSM Parameter Store: one GetParameters call for the whole record. */
export class SsmReleaseRecordStore implements ReleaseRecordStore {
  /**
   * @param options.scaling the stack configures auto scaling: the record has the colors' capacity parameters (only
   * then are they read: IAM denies a GetParameters naming a parameter the caller may not read, and without scaling
   * the grants name none).
   */
  static create(
    config: SSMClientConfig,
    names: RecordParameterNames,
    options: { readonly scaling?: boolean } = {},
  ): SsmReleaseRecordStore {
    return new SsmReleaseRecordStore(new SSMClient(config), names, options);
  }

  constructor(
    private readonly ssm: SSMClient,
    private readonly names: RecordParameterNames,
    private readonly options: { readonly scaling?: boolean } = {},
  ) {}

  /**
   * The weights parameter is optional: a record from before gradual shifts has none, and then production is all
   * on the live color (as it always was then). So are the capacity parameters: without them both colors are
   * `auto`.
   */
  async read(): Promise<ReleaseRecord> {
    const wanted = [this.names.liveColor, this.names.image.blue, this.names.image.green];
    const capacity = this.options.scaling ? [this.names.capacity.blue, this.names.capacity.green] : [];
    const optional = [this.names.weights, ...capacity];
    const out = await this.ssm.send(new GetParametersCommand({ Names: [...wanted, ...optional] }));
    const values = new Map((out.Parameters ?? []).map((p) => [p.Name, p.Value]));
    const liveSince = out.Parameters?.find((p) => p.Name === this.names.liveColor)?.LastModifiedDate;
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
      weights: this.weights(values.get(this.names.weights), liveColor),
      ...(liveSince ? { liveSince: liveSince.toISOString() } : {}),
      ...(this.options.scaling
        ? {
            capacity: {
              blue: this.capacity('blue', values.get(this.names.capacity.blue)),
              green: this.capacity('green', values.get(this.names.capacity.green)),
            },
          }
        : {}),
    };
  }

  async writeCapacity(color: Color, capacity: RecordedCapacity): Promise<void> {
    if (!this.options.scaling) {
      throw scalingNotConfigured(`record ${color}'s scaling bounds`);
    }
    const value = formatRecordedCapacity(capacity);
    if (!parseRecordedCapacity(value)) {
      throw recordInvalid(
        `Refusing to record the scaling bounds "${value}" for ${color}: they must be "auto" or "<min>,<max>" ` +
          'with 0 <= min <= max <= 1000. Nothing was written.',
      );
    }
    await this.put(this.names.capacity[color], value);
  }

  private capacity(color: Color, value: string | undefined): RecordedCapacity {
    if (value === undefined) {
      return 'auto';
    }
    const capacity = parseRecordedCapacity(value);
    if (!capacity) {
      throw recordInvalid(
        `The release record ${this.names.capacity[color]} holds "${value}", not "auto" or "<min>,<max>" scaling ` +
          `bounds. Set it to "auto" unless a release is in flight (bluegreen status shows ${color}'s bounds).`,
      );
    }
    return capacity;
  }

  /**
   * Three puts, in an order that keeps every moment in between safe for a reader: the image first (it is only
   * read for the color it names), then the weights, the live color last. The service stack renders the production
   * listener from the weights, so once they are written a deploy writes what the listener now does; the live
   * color is the commit point of a switch, as it always was. Between the two puts of a switch (weights "0,100",
   * live color still blue) the record contradicts itself, and the service stack's RecordIsValid rule refuses a
   * deploy rather than guess; the other order would leave the old split with the new live color, which no rule
   * can tell from a real canary.
   */
  async write(update: {
    liveColor: Color;
    image?: { color: Color; image: string };
    weights?: TrafficWeights;
  }): Promise<void> {
    const weights = formatRecordWeights(update.weights ?? weightsFor(100, update.liveColor));
    if (!parseRecordWeights(weights)) {
      throw recordInvalid(
        `Refusing to record production weights "${weights}": each must be a whole number from 0 to 999, not ` +
          'both 0. Nothing was written.',
      );
    }
    // The image and the weights together (neither is the commit point), the live color last: two calls' time at
    // worst, which is what the steps' time budget counts (sdk-budget.ts).
    await Promise.all([
      update.image ? this.put(this.names.image[update.image.color], update.image.image) : undefined,
      this.put(this.names.weights, weights),
    ]);
    await this.put(this.names.liveColor, update.liveColor);
  }

  private weights(value: string | undefined, liveColor: Color): TrafficWeights {
    if (value === undefined) {
      return weightsFor(100, liveColor);
    }
    const weights = parseRecordWeights(value);
    if (!weights) {
      throw recordInvalid(
        `The release record ${this.names.weights} holds "${value}", not "<blue>,<green>" listener weights ` +
          "(0-999 each, not both 0). Set it to the production listener's weights (bluegreen status shows them), " +
          `e.g. "100,0" when all traffic goes to blue.`,
      );
    }
    return weights;
  }

  private async put(name: string, value: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }),
    );
  }
}
