/**
 * Hand-made reports for the renderer's tests: a canary release that succeeded after an approval (12 minutes,
 * CloudWatch's minute buckets: a clock axis), and a release rolled back within seconds (a seconds axis), whose
 * texts carry markup that must come out escaped.
 */
import type { ReleaseReport, ReportDocument, TrafficBucket } from '../../report/model';

const at = (base: string, seconds: number) => new Date(Date.parse(base) + seconds * 1000).toISOString();

const T0 = '2026-03-04T14:00:00.000Z';
const t = (s: number) => at(T0, s);

function minutes(from: number, count: number, share: (i: number) => number): TrafficBucket[] {
  return Array.from({ length: count }, (_, i) => {
    const green = share(i);
    return [
      { at: t(from + i * 60), color: 'blue' as const, requests: 1000 - green, errors: 1, p99Ms: 120 },
      ...(green > 0
        ? [{ at: t(from + i * 60), color: 'green' as const, requests: green, errors: 0, p99Ms: 110 + i }]
        : []),
    ];
  }).flat();
}

export const released: ReleaseReport = {
  app: 'shop',
  release: 'release-2026-03-04-140000',
  title: 'shop 1.4.2 (canary 10%, then all)',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2',
  version: '1.4.2',
  status: 'SUCCEEDED',
  outcome: 'SUCCEEDED',
  startedAt: t(0),
  endedAt: t(720),
  startedBy: 'arn:aws:sts::123456789012:assumed-role/deployer/alice',
  approvals: [{ by: 'bob', at: t(240), what: 'opened the manual gate before the switch' }],
  strategy: 'canary 10% for 5 minutes',
  colors: { from: 'blue', to: 'green' },
  states: [
    { name: 'Prepare', enteredAt: t(0), exitedAt: t(2) },
    { name: 'Deploy to idle color', enteredAt: t(2), exitedAt: t(5) },
    { name: 'Wait for idle color', enteredAt: t(5), exitedAt: t(125) },
    { name: 'Validate idle color', enteredAt: t(125), exitedAt: t(130) },
    { name: 'Wait for approval', enteredAt: t(130), exitedAt: t(240) },
    { name: 'Shift traffic', enteredAt: t(240), exitedAt: t(241) },
    { name: 'Bake step', enteredAt: t(241), exitedAt: t(540) },
    { name: 'Analyse step', enteredAt: t(540), exitedAt: t(545) },
    { name: 'Switch traffic', enteredAt: t(545), exitedAt: t(546) },
    { name: 'Finish', enteredAt: t(546), exitedAt: t(720) },
  ],
  verdicts: [
    {
      at: t(130),
      kind: 'smoke',
      name: 'GET /health',
      value: 'status 200, 12 ms',
      threshold: 'status 200, at most 250 ms',
      passed: true,
      state: 'Validate idle color',
    },
    {
      at: t(130),
      kind: 'health',
      name: 'target health',
      value: '3 healthy, 0 not',
      threshold: 'at least 3 healthy, none unhealthy',
      passed: true,
    },
    {
      at: t(545),
      kind: 'analysis',
      name: 'step 1 (10%): latency',
      value: 'ratio 0.93',
      threshold: 'ratio at most 1.25',
      passed: true,
    },
  ],
  weights: [
    { at: t(0), blue: 100, green: 0 },
    { at: t(240), blue: 90, green: 10 },
    { at: t(545), blue: 0, green: 100 },
  ],
  traffic: {
    bucketSeconds: 60,
    source: 'CloudWatch AWS/ApplicationELB per target group',
    buckets: minutes(0, 12, (i) => (i < 4 ? 0 : i < 9 ? 100 : 1000)),
  },
  facts: [{ label: 'bake', value: '10 minutes' }],
};

const S0 = '2026-03-04T15:00:00.000Z';
const s = (sec: number) => at(S0, sec);

/** Transitions 50 ms apart (Check new live color, Roll back, Rolled back): their labels must not overlap. */
export const rolledBack: ReleaseReport = {
  app: 'shop',
  release: 'release-2026-03-04-150000',
  title: 'shop 1.4.3 <rolled back>',
  image: 'shop:1.4.3',
  version: '1.4.3',
  status: 'FAILED',
  outcome: 'ROLLED_BACK',
  error: 'UnhealthyAfterSwitch',
  cause: 'alarm <b>shop-green-5xx</b> in ALARM & 1016 5xx in 3s',
  startedAt: s(0),
  endedAt: s(9.1),
  approvals: [],
  colors: { from: 'green', to: 'blue' },
  states: [
    { name: 'Prepare', enteredAt: s(0), exitedAt: s(0.05) },
    { name: 'Deploy to idle color', enteredAt: s(0.05), exitedAt: s(0.1) },
    { name: 'Validate idle color', enteredAt: s(1), exitedAt: s(1.05) },
    { name: 'Switch traffic', enteredAt: s(1.1), exitedAt: s(1.15) },
    {
      name: 'Check new live color',
      enteredAt: s(8.95),
      exitedAt: s(9),
      error: 'UnhealthyAfterSwitch',
      cause: 'alarm <b>shop-green-5xx</b>',
    },
    { name: 'Roll back', enteredAt: s(9), exitedAt: s(9.05) },
    { name: 'Abort', enteredAt: s(9.05), exitedAt: s(9.1) },
  ],
  verdicts: [
    {
      at: s(9),
      kind: 'alarm',
      name: 'shop-blue-5xx <alarm>',
      value: '1016 5xx in 3 s',
      threshold: 'at most 5',
      passed: false,
    },
  ],
  weights: [
    { at: s(0), blue: 0, green: 100 },
    { at: s(1.15), blue: 100, green: 0 },
    { at: s(9.05), blue: 0, green: 100 },
  ],
  traffic: {
    bucketSeconds: 0.25,
    source: 'local load balancer',
    // Green until the switch (1.25 s), then blue failing 40 of 100 requests a bucket.
    buckets: Array.from({ length: 36 }, (_, i): TrafficBucket => ({
      at: s(i * 0.25),
      color: i >= 5 ? 'blue' : 'green',
      requests: 100,
      errors: i >= 5 ? 40 : 0,
      p99Ms: 20 + i,
    })),
  },
  timeToDetectMs: 7850,
  timeToRestoreMs: 8100,
  gaps: ['p99 latency of green: no datapoints from CloudWatch'],
};

export const document: ReportDocument = {
  title: 'bluegreen release report',
  generatedAt: '2026-03-04T16:00:00.000Z',
  reports: [released, rolledBack],
};
