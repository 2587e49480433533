/**
 * The operating commands against the mock AWS (mock-aws.ts): `bluegreen status`, `approve` / `reject` at the
 * manual gate, and `history`. `bluegreen rollback` is in operate-rollback.test.ts.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { ME, MockAws, REPO, history } from './mock-aws';
import { bluegreen } from './support';
import { V1, V2, inFlight } from './operate-support';

let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

describe('bluegreen status', () => {
  test('live color, traffic, image, tasks and health per color, rollback readiness, no release in flight', async () => {
    const { code, out } = await bluegreen('status');
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'shop: blue is live (all production traffic to blue)',
      '',
      '  color  role  traffic  tasks  healthy targets  image',
      `  blue   live  100%     2/2    2/2              ${V1}`,
      `  green  idle  0%       0/0    0/0              ${V1}`,
      '',
      'rollback: not possible: green has no running tasks (it was scaled down after the last release)',
      'release in flight: none',
    ]);
  });

  test('--json: the same facts as stable fields; drift when record and listener disagree', async () => {
    aws.weights = { blue: 0, green: 100 };
    const { code, out } = await bluegreen('status --json');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({
      app: 'shop',
      liveColor: 'blue',
      traffic: 'all production traffic to green',
      weights: { blue: 0, green: 100 },
      colors: { blue: { role: 'live', image: V1, trafficPercent: 0, tasks: { desired: 2, running: 2 } } },
      rollback: { to: 'green', possible: false },
    });
    expect(report.drift).toContain(
      'says blue is live, but the production listener sends all production traffic to green',
    );
  });

  test("with auto scaling: each color's count, bounds and scale-in suspension, and the record's bounds where they differ", async () => {
    aws.scaling = { minCount: 2, maxCount: 20 };
    aws.services.blue = { ...aws.services.blue, desired: 4, running: 4 };
    aws.bounds = {
      blue: { min: 2, max: 20, scaleInSuspended: false },
      green: { min: 0, max: 0, scaleInSuspended: false },
    };
    const first = await bluegreen('status');
    expect(first.code).toBe(0);
    expect(first.out.split('\n').slice(4, 9)).toEqual([
      `  green  idle  0%       0/0    0/0              ${V1}`,
      '',
      'scaling:',
      '  blue  4 tasks (bounds 2..20)',
      '  green 0 tasks (bounds 0..0)',
    ]);

    // A release holds both colors: the record says so; the fleet has not caught up on green (or was changed by hand).
    aws.record.capacity = { blue: '4,20', green: '4,20' };
    aws.bounds.blue = { min: 4, max: 20, scaleInSuspended: true };
    let { out } = await bluegreen('status');
    expect(out).toContain(
      [
        'scaling:',
        '  blue  4 tasks (bounds 4..20, scale-in suspended)',
        '  green 0 tasks (bounds 0..0); record: 4..20, scale-in suspended',
      ].join('\n'),
    );
    const report = JSON.parse((await bluegreen('status --json')).out);
    expect(report.colors.blue).toMatchObject({
      scaling: { desired: 4, min: 4, max: 20, scaleInSuspended: true },
    });
    expect(report.colors.blue.recordedScaling).toBeUndefined();
    expect(report.colors.green.recordedScaling).toEqual({
      value: '4,20',
      bounds: { min: 4, max: 20, scaleInSuspended: true },
    });

    // The live color auto in the record (2..20) while its target is still held.
    aws.record.capacity = { blue: 'auto' };
    ({ out } = await bluegreen('status'));
    expect(out).toContain('  blue  4 tasks (bounds 4..20, scale-in suspended); record: auto = 2..20');
    expect(out).toContain('  green 0 tasks (bounds 0..0)\n');
  });

  test('a ScalingBounds stack output that is not "<minCount>,<maxCount>" is a usage error', async () => {
    aws.scaling = { minCount: 5, maxCount: 2 };
    const { code, err } = await bluegreen('status');
    expect(code).toBe(2);
    expect(err).toContain(
      'StackOutputsInvalid: Stack "shop" has the output ScalingBounds "5,2", not "<minCount>,<maxCount>"',
    );
  });

  test('a release waiting at the gate, with unhealthy targets shown', async () => {
    inFlight(aws, 'Wait for approval', 'Task', false, [history.scheduledCallback('token-1', {})]);
    aws.services.green = { desired: 2, running: 2, revision: 'x' };
    aws.healthy.green = 1;
    const { out } = await bluegreen('status');
    expect(out).toContain('  green: 10.0.1.11:8080 unhealthy (Target.ResponseCodeMismatch)');
    expect(out).toContain(
      'rollback: not possible: release v2-20261126T100000Z has not switched traffic yet: there is nothing to roll back',
    );
    expect(out).toContain(
      `release in flight: v2-20261126T100000Z (${V2}), in "Wait for approval" for 4m57s: waiting for approval`,
    );
    expect(JSON.parse((await bluegreen('status --json')).out).inFlight).toMatchObject({
      release: 'v2-20261126T100000Z',
      state: 'Wait for approval',
      waitingForApproval: true,
    });
  });
});

describe('bluegreen approve / reject', () => {
  const gateState = () => [history.scheduledCallback('token-1', {})];

  test("approve answers the waiting release's task token, saying who approved", async () => {
    inFlight(aws, 'Wait for approval', 'Task', false, gateState());
    const { code, out } = await bluegreen('approve --comment looks-good');
    expect(code).toBe(0);
    expect(aws.answers).toHaveLength(1);
    expect(aws.answers[0].token).toBe('token-1');
    expect(JSON.parse(aws.answers[0].output!)).toEqual({
      approvedBy: ME,
      at: '2026-11-26T10:05:00.000Z',
      comment: 'looks-good',
    });
    expect(out).toContain(
      `Approved release v2-20261126T100000Z (${V2}): production traffic moves to green now.`,
    );
  });

  test('reject fails the task with Rejected and the reason', async () => {
    inFlight(aws, 'Wait for approval', 'Task', false, gateState());
    const { code, out } = await bluegreen('reject --reason sale-in-progress');
    expect(code).toBe(0);
    expect(aws.answers[0]).toEqual({
      token: 'token-1',
      error: 'Rejected',
      cause: `Rejected by ${ME}: sale-in-progress.`,
    });
    expect(out).toContain('Rejected release v2-20261126T100000Z');
    expect(out).toContain('traffic stays on blue');
  });

  test('refusals (exit 1): nothing in flight, not at the gate, another release named, the gate closed', async () => {
    const none = await bluegreen('approve');
    expect(none).toMatchObject({ code: 1 });
    expect(none.err).toContain('NothingWaiting: No release of shop is in flight');

    inFlight(aws, 'Deploy to idle color', 'Task', false);
    const early = await bluegreen('approve');
    expect(early.code).toBe(1);
    expect(early.err).toContain(
      'NotWaitingForApproval: Release v2-20261126T100000Z is in "Deploy to idle color"',
    );

    aws.executions.length = 0;
    inFlight(aws, 'Wait for approval', 'Task', false, gateState());
    const other = await bluegreen('reject --release v9-20261126T000000Z');
    expect(other.code).toBe(1);
    expect(other.err).toContain('OtherRelease');

    const timedOut = new Error('Task Timed Out');
    timedOut.name = 'TaskTimedOut';
    aws.sfn.on(SendTaskSuccessCommand).rejects(timedOut);
    const closed = await bluegreen('approve');
    expect(closed.code).toBe(1);
    expect(closed.err).toContain(
      'GateClosed: Release v2-20261126T100000Z stopped waiting before the answer arrived',
    );
  });
});

describe('bluegreen history', () => {
  beforeEach(() => {
    const at = (t: string) => new Date(`2026-11-26T${t}Z`);
    aws.executions.push(
      {
        name: 'v1-a',
        status: 'SUCCEEDED',
        input: JSON.stringify({ image: V1, startedBy: ME }),
        start: at('08:00:00'),
        stop: at('08:12:30'),
        events: [],
      },
      {
        name: 'v2-b',
        status: 'FAILED',
        input: JSON.stringify({ image: V2, startedBy: `${ME} via GitHub Actions acme/shop@abcdef1 run 42` }),
        start: at('09:00:00'),
        stop: at('09:08:00'),
        error: 'RolledBack',
        cause: '...',
        events: [],
      },
      {
        name: 'v3-c',
        status: 'ABORTED',
        input: JSON.stringify({ image: `${REPO}:v3` }),
        start: at('09:30:00'),
        stop: at('09:31:00'),
        error: 'ManualRollback',
        events: [],
      },
    );
  });

  test('newest first: start, duration, outcome, image, who started it', async () => {
    const { code, out } = await bluegreen('history');
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'started (UTC)     took    outcome                   image                                                 started by',
      `2026-11-26 09:30  1m00s   stopped (ManualRollback)  ${REPO}:v3  not the bluegreen CLI`,
      `2026-11-26 09:00  8m00s   RolledBack                ${V2}  ${ME} via GitHub Actions acme/shop@abcdef1 run 42`,
      `2026-11-26 08:00  12m30s  released                  ${V1}  ${ME}`,
    ]);
  });

  test('--limit and --json; a bad limit is a usage error', async () => {
    const { out } = await bluegreen('history --limit 2 --json');
    const entries = JSON.parse(out);
    expect(entries.map((e: { release: string; outcome: string }) => [e.release, e.outcome])).toEqual([
      ['v3-c', 'stopped (ManualRollback)'],
      ['v2-b', 'RolledBack'],
    ]);
    expect((await bluegreen('history --limit 0')).code).toBe(2);
  });
});
