/**
 * Prints the CLI examples of the README ("Operating a release"): the real CLI (cli/main.ts) run against the
 * tests' simulated AWS (mock-aws.ts), so the output is exactly what the CLI prints, while the AWS responses and
 * timings are scripted. Run: npx tsx test/cli/readme-examples.ts
 */
import { stepSummary } from '../../lambda/workflow/analyse';
import '../../rehearsal/quiet';
import type { CliIo } from '../../cli/io';
import { run } from '../../cli/main';
import { compareColors } from '../../lambda/shared/analysis';
import type { Release, StepVerdict } from '../../lambda/shared/release';
import { DEFAULT_POLICY, shiftSteps, weightsFor, type Strategy } from '../../lambda/shared/strategy';
import { FakeWorld } from '../support/fake-world';
import { runRelease } from '../support/run-workflow';
import { ME, MockAws, REPO, history, releaseOf } from './mock-aws';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

/** The CLI's clock (it advances when the CLI sleeps between two reads of the history). */
let now = 0;

async function show(args: string, at = '2026-11-26T10:05:00Z'): Promise<void> {
  now = Date.parse(at);
  const lines: string[] = [];
  const io: CliIo = {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    tty: false,
    color: false,
    status: () => undefined,
    confirm: () => Promise.resolve(true),
    now: () => new Date(now),
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    env: { BLUEGREEN_APP: 'shop', AWS_REGION: 'eu-west-1' },
    cwd: '/nonexistent',
  };
  const code = await run(args.split(' '), io);
  console.log(`$ npx bluegreen ${args}\n${lines.join('\n')}\n(exit ${code})\n`);
}

function releasedState(name: string) {
  return { execution: name, release: releaseOf(V2) };
}

async function main(): Promise<void> {
  // 1. A release followed to the end: the history grows with the clock, as Step Functions writes it, with gaps
  // like a real run's (15 s deploy polls, 10 s bake checks, a short bake, 30 s kept warm); the CLI reads it every 2 s.
  let aws = new MockAws();
  history.reset('2026-11-26T10:05:00Z');
  const s = releasedState('v2-20261126T100500Z');
  const steps: [string, string, number][] = [
    ['Start', 'Pass', 0],
    ['Prepare', 'Task', 1],
    ['Deploy to idle color', 'Task', 2],
    ['Wait for idle color', 'Wait', 15],
    ['Check idle color', 'Task', 1],
    ['Idle color ready?', 'Choice', 0],
    ['Wait for idle color', 'Wait', 15],
    ['Check idle color', 'Task', 1],
    ['Idle color ready?', 'Choice', 0],
    ['Validate idle color', 'Task', 3],
    ['Switch traffic', 'Task', 1],
    ['Bake: wait', 'Wait', 10],
    ['Check new live color', 'Task', 1],
    ['Bake done?', 'Choice', 0],
    ['Bake: wait', 'Wait', 10],
    ['Check new live color', 'Task', 1],
    ['Bake done?', 'Choice', 0],
    ['Keep old color warm', 'Wait', 30],
    ['Finish', 'Task', 1],
    ['Released', 'Succeed', 0],
  ];
  const all = [history.started({ image: V2 })];
  for (const [name, type, seconds] of steps) {
    const entered = history.entered(name, type, s);
    all.push(entered);
    history.reset(new Date(entered.timestamp!.getTime() + seconds * 1000 - 1000).toISOString());
    all.push(history.exited(name, type, s));
  }
  all.push(history.succeeded(s));
  aws.onHistoryRead = (e) => {
    while (all.length > 0 && all[0].timestamp!.getTime() <= now) {
      e.events.push(all.shift()!);
    }
  };
  await show(`release --image ${V2} --wait`);
  aws.restore();

  // 2. Status during that release's bake, and a second release refused.
  aws = new MockAws();
  history.reset('2026-11-26T10:05:00Z');
  aws.record = { live: 'green', images: { blue: V1, green: V2 } };
  aws.weights = { blue: 0, green: 100 };
  aws.services.green = { desired: 2, running: 2, revision: 'x' };
  aws.lock = {
    owner: s.execution,
    image: V2,
    since: '2026-11-26T10:05:00.000Z',
    expiresAt: Date.parse('2026-11-26T12:05:00Z') / 1000,
  };
  aws.executions.push({
    name: s.execution,
    status: 'RUNNING',
    input: JSON.stringify({ image: V2, startedBy: ME }),
    start: new Date('2026-11-26T10:05:00Z'),
    events: [history.started({ image: V2 }), history.entered('Bake: wait', 'Wait', s)],
  });
  await show('status', '2026-11-26T10:05:09Z');
  await show(`release --image ${REPO}:v3`, '2026-11-26T10:05:09Z');
  await show('rollback --yes --reason checkout-errors', '2026-11-26T10:05:09Z');
  aws.restore();

  // 3. The manual gate.
  aws = new MockAws();
  history.reset('2026-11-26T10:05:00Z');
  aws.services.green = { desired: 2, running: 2, revision: 'x' };
  aws.executions.push({
    name: s.execution,
    status: 'RUNNING',
    input: JSON.stringify({ image: V2, startedBy: ME }),
    start: new Date('2026-11-26T10:05:00Z'),
    events: [
      history.started({ image: V2 }),
      history.entered('Wait for approval', 'Task', s),
      history.scheduledCallback('AQB8A...token', s),
    ],
  });
  await show('status', '2026-11-26T10:09:30Z');
  await show('approve --comment checked-the-test-url', '2026-11-26T10:09:30Z');
  await show('rollback --yes', '2026-11-26T10:09:30Z');
  aws.restore();

  // 4. History.
  aws = new MockAws();
  const at = (t: string) => new Date(`2026-11-26T${t}Z`);
  aws.executions.push(
    {
      name: 'v1-20261126T080000Z',
      status: 'SUCCEEDED',
      input: JSON.stringify({ image: V1, startedBy: `${ME}` }),
      start: at('08:00:00'),
      stop: at('08:07:12'),
      events: [],
    },
    {
      name: 'v2-20261126T090000Z',
      status: 'FAILED',
      input: JSON.stringify({
        image: V2,
        startedBy:
          'arn:aws:sts::123456789012:assumed-role/bluegreen-shop-github-deploy/bluegreen-42 via GitHub Actions acme/shop@3f2a9c1 run 42',
      }),
      start: at('09:00:00'),
      stop: at('09:04:40'),
      error: 'RolledBack',
      events: [],
    },
    {
      name: 'v3-20261126T093000Z',
      status: 'FAILED',
      input: JSON.stringify({ image: `${REPO}:v3`, startedBy: ME }),
      start: at('09:30:00'),
      stop: at('09:41:02'),
      error: 'Rejected',
      events: [],
    },
  );
  await show('history', '2026-11-26T10:00:00Z');
  aws.restore();

  // 6. A release that rolls back: the states, error and cause of the real state machine run locally over the
  // tests' in-memory AWS (an image that fails health checks after the switch), replayed to the CLI.
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, 'fails-after-switch');
  const local = await runRelease(world, { image: V2 });
  aws = new MockAws();
  history.reset('2026-11-26T11:00:00Z');
  const replay = [history.started({ image: V2 })];
  const pause: Record<string, number> = {
    'Wait for idle color': 15,
    'Bake: wait': 10,
    'Validate idle color': 3,
  };
  for (const e of local.events) {
    if (e.type === 'entered') {
      replay.push(history.entered(e.state, 'Task', s));
      history.reset(
        new Date(
          replay[replay.length - 1].timestamp!.getTime() +
            (pause[e.state] ?? (e.state.endsWith('?') ? 0 : 1)) * 1000 -
            1000,
        ).toISOString(),
      );
    } else if (e.type === 'exited') {
      replay.push(history.exited(e.state, 'Task', s));
    } else if (e.type === 'failed' && e.state === 'Check new live color') {
      // The check's own error is the first part of the execution's cause ("<error>: <cause> Rolled back: ...").
      const [error, ...rest] = local.cause!.split(': ');
      replay.push(history.taskFailed(error, rest.join(': ').split(' Rolled back:')[0]));
    }
  }
  replay.push(history.failed(local.error!, local.cause!));
  aws.onHistoryRead = (e) => {
    while (replay.length > 0 && replay[0].timestamp!.getTime() <= now) {
      e.events.push(replay.shift()!);
    }
  };
  await show(`release --image ${V2} --wait`, '2026-11-26T11:00:00Z');
  aws.restore();

  // 5. Nothing to roll back to.
  aws = new MockAws();
  aws.record = { live: 'green', images: { blue: V1, green: V2 } };
  aws.weights = { blue: 0, green: 100 };
  aws.services.green = { desired: 2, running: 2, revision: 'x' };
  aws.services.blue = { desired: 0, running: 0, revision: 'y' };
  await show('rollback --yes');
  aws.restore();

  await gradualShifts();
}

/** A release at shift step `step` (0-based) of `strategy`, with `verdicts` so far. */
function shifted(strategy: Strategy, step: number, verdicts: StepVerdict[] = []): Release {
  const steps = shiftSteps(strategy);
  return {
    ...releaseOf(V2),
    strategy,
    shift: {
      strategy,
      steps,
      step,
      ...(step >= 0 ? { weights: weightsFor(steps[step], 'green') } : {}),
      extensions: 0,
      waitSeconds: strategy.type === 'all-at-once' ? 0 : strategy.bakeSeconds,
      verdicts,
      dryRun: false,
    },
  };
}

/** A step's verdict, judged by the real comparison on scripted counts (old color first). */
function judged(
  step: number,
  of: number,
  percent: number,
  counts: [number, number, number, number, number, number],
  action: StepVerdict['action'],
): StepVerdict {
  const [oldRequests, oldErrors, oldMs, newRequests, newErrors, newMs] = counts;
  const v = compareColors(
    { requests: oldRequests, errors: oldErrors, latencyMs: oldMs },
    { requests: newRequests, errors: newErrors, latencyMs: newMs },
    DEFAULT_POLICY,
  );
  return {
    step,
    percent,
    window: { start: '2026-11-26T12:01:00.000Z', end: '2026-11-26T12:05:00.000Z' },
    result: v.result,
    metrics: v.metrics,
    alarms: [],
    action,
    summary: stepSummary({
      step,
      steps: of,
      percent,
      color: 'green',
      window: '12:01:00-12:05:00Z',
      found: v.summary,
      doing:
        action === 'promote' ? 'next: 100% to the new color' : `next: step ${step + 1} (${percent * 2}%)`,
      dry: '',
    }),
  };
}

/** 7. Gradual shifts: a canary followed to the end; a linear shift's status, promote, and a rollback mid-shift. */
async function gradualShifts(): Promise<void> {
  const canary: Strategy = { type: 'canary', percent: 10, bakeSeconds: 300 };
  let aws = new MockAws();
  history.reset('2026-11-26T12:00:00Z');
  const name = 'v2-20261126T120000Z';
  const at = (release: Release) => ({ execution: name, release });
  const pass = judged(1, 1, 10, [11950, 24, 176, 1320, 3, 182], 'promote');
  const steps: [string, string, number, Release][] = [
    ['Start', 'Pass', 0, releaseOf(V2)],
    ['Prepare', 'Task', 1, releaseOf(V2)],
    ['Deploy to idle color', 'Task', 2, releaseOf(V2)],
    ['Wait for idle color', 'Wait', 15, releaseOf(V2)],
    ['Check idle color', 'Task', 1, releaseOf(V2)],
    ['Idle color ready?', 'Choice', 0, releaseOf(V2)],
    ['Validate idle color', 'Task', 3, releaseOf(V2)],
    ['Gradual shift?', 'Choice', 0, shifted(canary, -1)],
    ['Shift traffic', 'Task', 1, shifted(canary, 0)],
    ['Bake step', 'Wait', 300, shifted(canary, 0)],
    ['Analyse step', 'Task', 1, shifted(canary, 0, [pass])],
    ['Step verdict', 'Choice', 0, shifted(canary, 0, [pass])],
    ['Switch traffic', 'Task', 1, shifted(canary, 0, [pass])],
    ['Bake: wait', 'Wait', 10, shifted(canary, 0, [pass])],
    ['Check new live color', 'Task', 1, shifted(canary, 0, [pass])],
    ['Bake done?', 'Choice', 0, shifted(canary, 0, [pass])],
    ['Keep old color warm', 'Wait', 30, shifted(canary, 0, [pass])],
    ['Finish', 'Task', 1, shifted(canary, 0, [pass])],
    ['Released', 'Succeed', 0, shifted(canary, 0, [pass])],
  ];
  const all = [history.started({ image: V2, strategy: canary })];
  let before = releaseOf(V2);
  for (const [state, type, seconds, after] of steps) {
    const entered = history.entered(state, type, at(before));
    all.push(entered);
    history.reset(new Date(entered.timestamp!.getTime() + seconds * 1000 - 1000).toISOString());
    all.push(history.exited(state, type, at(after)));
    before = after;
  }
  all.push(history.succeeded(at(before)));
  aws.onHistoryRead = (e) => {
    while (all.length > 0 && all[0].timestamp!.getTime() <= now) {
      e.events.push(all.shift()!);
    }
  };
  await show(`release --image ${V2} --strategy canary:10:5m --wait`, '2026-11-26T12:00:00Z');
  aws.restore();

  // A linear shift at its second step: status, promote, and (another time) a rollback from the split.
  const linear: Strategy = { type: 'linear', stepPercent: 25, bakeSeconds: 300 };
  const inShift = (release: Release) => {
    aws = new MockAws();
    history.reset('2026-11-26T12:04:58Z'); // the second step's bake began at 12:05
    aws.services.green = { desired: 2, running: 2, revision: 'x' };
    aws.weights = { ...release.shift!.weights! };
    aws.lock = {
      owner: name,
      image: V2,
      since: '2026-11-26T12:00:00.000Z',
      expiresAt: Date.parse('2026-11-26T14:00:00Z') / 1000,
    };
    aws.executions.push({
      name,
      status: 'RUNNING',
      input: JSON.stringify({ image: V2, startedBy: ME, strategy: linear }),
      start: new Date('2026-11-26T12:00:00Z'),
      events: [history.started({ image: V2 }), history.entered('Bake step', 'Wait', at(release))],
    });
  };
  const first = judged(1, 3, 25, [9020, 18, 177, 2985, 5, 181], 'next');
  inShift(shifted(linear, 1, [first]));
  await show('status', '2026-11-26T12:07:00Z');
  await show('promote --yes', '2026-11-26T12:07:00Z');
  await show('status', '2026-11-26T12:07:05Z');
  aws.restore();

  inShift(shifted(linear, 1, [first]));
  await show('rollback --yes --reason checkout-errors', '2026-11-26T12:07:00Z');
  aws.restore();
}

void main();
