/**
 * What the operating commands' tests share (operate.test.ts, operate-rollback.test.ts): the images, and the mock
 * AWS (mock-aws.ts) after a release that kept the old color warm, or with a release in flight.
 */
import { ME, REPO, history, releaseOf, type MockAws } from './mock-aws';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;

/** After a release of v2 to green with keepIdleWarm: green live, blue still at full capacity on v1. */
export function releasedKeptWarm(aws: MockAws): void {
  aws.record = { live: 'green', images: { blue: V1, green: V2 } };
  aws.weights = { blue: 0, green: 100 };
  aws.testWeights = { blue: 100, green: 0 };
  aws.services.green = {
    desired: 2,
    running: 2,
    revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4',
  };
}

/** A release of v2 in flight, in `state`; `switched` once it is past the switch. */
export function inFlight(
  aws: MockAws,
  state: string,
  type: string,
  switched: boolean,
  extra: ReturnType<typeof history.started>[] = [],
) {
  const release = releaseOf(V2);
  if (switched) {
    releasedKeptWarm(aws);
  }
  aws.lock = {
    owner: 'v2-20261126T100000Z',
    image: V2,
    since: '2026-11-26T10:00:00.000Z',
    expiresAt: Date.parse('2026-11-26T12:00:00Z') / 1000,
  };
  aws.executions.push({
    name: 'v2-20261126T100000Z',
    status: 'RUNNING',
    input: JSON.stringify({ image: V2, startedBy: ME }),
    start: new Date('2026-11-26T10:00:00Z'),
    events: [
      history.started({ image: V2 }),
      history.entered(state, type, { execution: 'v2-20261126T100000Z', release }),
      ...extra,
    ],
  });
}
