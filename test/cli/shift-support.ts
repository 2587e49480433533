/** Gradual shifts for the CLI tests: a release at a shift step, a step's verdict, the world mid-shift. */
import type { Release, Shift, StepVerdict } from '../../lambda/shared/release';
import { stepSummary } from '../../lambda/workflow/analyse';
import { weightsFor, type Strategy } from '../../lambda/shared/strategy';
import { ME, REPO, history, releaseOf, type MockAws } from './mock-aws';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
export const NAME = 'v2-20261126T100000Z';
export const LINEAR: Strategy = { type: 'linear', stepPercent: 25, bakeSeconds: 120 };

export function verdict(
  step: number,
  percent: number,
  action: StepVerdict['action'],
  summary: string,
): StepVerdict {
  return {
    step,
    percent,
    window: { start: '2026-11-26T10:01:00.000Z', end: '2026-11-26T10:03:00.000Z' },
    result: action === 'rollback' ? 'fail' : 'pass',
    metrics: [],
    alarms: [],
    action,
    summary,
  };
}

/** Two passing steps' summaries, as the Analyse step writes them. */
export const PASS_1 = stepSummary({
  step: 1,
  steps: 3,
  percent: 25,
  color: 'green',
  window: '10:01:00-10:03:00Z',
  found:
    'PASS: errors: pass, new 3 of 1420 failed (0.21%) against old 8 of 4260 failed (0.19%): p = 0.43 (not below ' +
    '0.01); latency: pass, new 182 ms against old 176 ms: ratio 1.03 (limit 1.25).',
  doing: 'next: step 2 (50%)',
  dry: '',
});
export const PASS_2 = stepSummary({
  step: 2,
  steps: 3,
  percent: 50,
  color: 'green',
  window: '10:03:00-10:05:00Z',
  found:
    'PASS: errors: pass, new 3 of 2800 failed (0.11%) against old 6 of 2810 failed (0.21%): p = 0.93 (not below ' +
    '0.01); latency: pass, new 180 ms against old 179 ms: ratio 1.01 (limit 1.25).',
  doing: 'next: step 3 (75%)',
  dry: '',
});

/** v2 released to green, linear 25% steps, at `step` (0-based) with its weights set and `verdicts` so far. */
export function shifting(step: number, verdicts: StepVerdict[] = [], extra: Partial<Shift> = {}): Release {
  const steps = [25, 50, 75];
  return {
    ...releaseOf(V2),
    strategy: LINEAR,
    shift: {
      strategy: LINEAR,
      steps,
      step,
      ...(step >= 0 ? { weights: weightsFor(steps[step], 'green'), since: '2026-11-26T10:00:30.000Z' } : {}),
      extensions: 0,
      waitSeconds: 120,
      verdicts,
      dryRun: false,
      ...extra,
    },
  };
}

/** The world mid-shift: green runs v2 at full count, the listener split as `release` set it, the record on blue. */
export function inShift(
  aws: MockAws,
  state: string,
  type: string,
  release: Release,
  stickySeconds?: number,
): void {
  aws.services.green = {
    desired: 2,
    running: 2,
    revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4',
  };
  // Before its first step all traffic is still on blue; after the switch (all at once) all of it is on green.
  aws.weights = release.shift?.weights
    ? { ...release.shift.weights }
    : { blue: release.shift ? 100 : 0, green: release.shift ? 0 : 100 };
  if (!release.shift) {
    aws.record = { live: 'green', images: { blue: V1, green: V2 } };
  }
  aws.stickySeconds = stickySeconds;
  aws.lock = {
    owner: NAME,
    image: V2,
    since: '2026-11-26T10:00:00.000Z',
    expiresAt: Date.parse('2026-11-26T12:00:00Z') / 1000,
  };
  aws.executions.push({
    name: NAME,
    status: 'RUNNING',
    input: JSON.stringify({ image: V2, startedBy: ME, strategy: LINEAR }),
    start: new Date('2026-11-26T10:00:00Z'),
    events: [history.started({ image: V2 }), history.entered(state, type, { execution: NAME, release })],
  });
}
