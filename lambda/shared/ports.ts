/**
 * The small interfaces the workflow's core talks to. AWS adapters (lambda/adapters) implement them for the
 * cloud; the local rehearsal implements them on one machine. The core never imports an AWS SDK.
 */
import type { Color } from './release-record';
import type { TrafficWeights } from './traffic';

export interface ReleaseRecord {
  readonly liveColor: Color;
  readonly images: Readonly<Record<Color, string>>;
}

/** The durable record of which color is live and what each color runs (SSM in AWS). */
export interface ReleaseRecordStore {
  read(): Promise<ReleaseRecord>;
}

/** The thing that really decides where users go (the ALB production listener in AWS). */
export interface TrafficRouter {
  productionWeights(): Promise<TrafficWeights>;
}
