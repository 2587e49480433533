/**
 * `bluegreen release` for gradual shifts: --strategy and --dry-run into the execution input (bad values refused
 * before anything starts), and, while following, each step's split, each verdict and a promotion, once each.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Release } from '../../lambda/shared/release';
import { ME, MockAws, REPO, history, type Execution } from './mock-aws';
import { PASS_1, PASS_2, shifting, V2, verdict } from './shift-support';
import { bluegreen, terminal } from './support';

let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

describe('bluegreen release --strategy / --dry-run', () => {
  test('the short form goes into the execution input as the object form, with dryRun', async () => {
    const outs: string[] = [];
    for (const args of [
      `${V2} --strategy canary:10:5m --dry-run`,
      `${REPO}:v3 --strategy linear:25:2m`,
      `${REPO}:v4 --strategy all-at-once`,
    ]) {
      const run = await bluegreen(`release --image ${args}`);
      expect(run.code).toBe(0);
      outs.push(run.out.split('\n')[0]);
      aws.executions.length = 0; // each one ended before the next
    }
    const inputs = aws.sfn
      .commandCalls(StartExecutionCommand)
      .map((c) => JSON.parse(c.args[0].input.input!) as Record<string, unknown>);
    expect(inputs).toEqual([
      {
        image: V2,
        strategy: { type: 'canary', percent: 10, bakeSeconds: 300 },
        dryRun: true,
        startedBy: ME,
      },
      { image: `${REPO}:v3`, strategy: { type: 'linear', stepPercent: 25, bakeSeconds: 120 }, startedBy: ME },
      { image: `${REPO}:v4`, strategy: { type: 'all-at-once' }, startedBy: ME },
    ]);
    expect(outs).toEqual([
      `Release v2-20261126T100500Z started: ${V2} for shop, canary 10% for 5 min, then 100% (dry run: the ` +
        'analysis reports, never acts)',
      `Release v3-20261126T100500Z started: ${REPO}:v3 for shop, linear 25% steps (25, 50, 75%) of 2 min each, ` +
        'then 100%',
      `Release v4-20261126T100500Z started: ${REPO}:v4 for shop, all at once`,
    ]);
    const json = await bluegreen(`release --image ${REPO}:v5 --strategy canary:10:5m --json`);
    expect(JSON.parse(json.out)).toMatchObject({
      event: 'started',
      strategy: { type: 'canary', percent: 10, bakeSeconds: 300 },
    });
  });

  test.each([
    ['canary:10', 'must be "all-at-once"'],
    ['canary:0:5m', '--strategy.percent: must be a percentage from 0.1 to 99.9'],
    ['linear:60:2m', '--strategy.stepPercent: must be a percentage from 0.1 to 50'],
    ['canary:10:30s', '--strategy.bakeSeconds: must be a whole number from 120'],
    ['all-at-once --dry-run', '--dry-run reports the analysis of shift steps'],
  ])('--strategy %s: a one-line usage error, nothing started', async (value, message) => {
    const { code, out, err } = await bluegreen(`release --image ${V2} --strategy ${value}`);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toMatch(/^InvalidStrategy: /);
    expect(err).toContain(message);
    expect(err).toContain('Nothing was started.');
    expect(aws.sfn.calls()).toHaveLength(0);
  });

  test('--wait shows each step with its split, each verdict and the promotion, once each', async () => {
    const promoted = { by: ME, at: '2026-11-26T10:04:30.000Z' };
    const v1 = verdict(1, 25, 'next', PASS_1);
    const v2 = verdict(2, 50, 'promote', PASS_2);
    const s = (release: Release) => ({ execution: 'v2-20261126T100500Z', release });
    const batches: ((e: Execution) => void)[] = [
      (e) =>
        e.events.push(
          history.started({ image: V2 }),
          history.entered('Gradual shift?', 'Choice', s(shifting(-1))),
          history.exited('Gradual shift?', 'Choice', s(shifting(-1))),
          history.entered('Shift traffic', 'Task', s(shifting(-1))),
          history.exited('Shift traffic', 'Task', s(shifting(0))),
          history.entered('Bake step', 'Wait', s(shifting(0))),
        ),
      (e) =>
        e.events.push(
          history.exited('Bake step', 'Wait', s(shifting(0))),
          history.entered('Analyse step', 'Task', s(shifting(0))),
          history.exited('Analyse step', 'Task', s(shifting(0, [v1]))),
          history.entered('Step verdict', 'Choice', s(shifting(0, [v1]))),
          history.exited('Step verdict', 'Choice', s(shifting(0, [v1]))),
          history.entered('Shift traffic', 'Task', s(shifting(0, [v1]))),
          history.exited('Shift traffic', 'Task', s(shifting(1, [v1]))),
          history.entered('Bake step', 'Wait', s(shifting(1, [v1]))),
        ),
      (e) =>
        e.events.push(
          history.exited('Bake step', 'Wait', s(shifting(1, [v1]))),
          history.entered('Analyse step', 'Task', s(shifting(1, [v1]))),
          history.exited('Analyse step', 'Task', s(shifting(1, [v1, v2], { promotedBy: promoted }))),
          history.entered('Switch traffic', 'Task', s(shifting(1, [v1, v2], { promotedBy: promoted }))),
          history.exited('Switch traffic', 'Task', s(shifting(1, [v1, v2], { promotedBy: promoted }))),
          history.succeeded(s(shifting(1, [v1, v2], { promotedBy: promoted }))),
        ),
    ];
    let read = 0;
    aws.onHistoryRead = (e) => batches[read++]?.(e);

    const { code, out } = await bluegreen(`release --image ${V2} --strategy linear:25:2m --wait`);
    expect(code).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('  ') && !l.startsWith('  console'));
    expect(lines).toEqual([
      '  step 1 of 3: green 25%, blue 75%',
      `  ${PASS_1}`,
      '  step 2 of 3: green 50%, blue 50%',
      `  ${PASS_2}`,
      `  promoted by ${ME} at 2026-11-26T10:04:30.000Z: the remaining steps are skipped, on to 100%`,
    ]);
    // Each right after the state that produced it.
    const all = out.split('\n');
    expect(all[all.indexOf('  step 1 of 3: green 25%, blue 75%') - 1]).toMatch(/✓ Shift traffic/);
    expect(all[all.indexOf(`  ${PASS_1}`) - 1]).toMatch(/✓ Analyse step/);
  });

  test('--wait on a terminal: the spinner shows the step while a shift state runs', async () => {
    const s = (release: Release) => ({ execution: 'v2-20261126T100500Z', release });
    let read = 0;
    aws.onHistoryRead = (e) => {
      if (read++ === 0) {
        e.events.push(
          history.started({ image: V2 }),
          history.entered('Shift traffic', 'Task', s(shifting(-1))),
          history.exited('Shift traffic', 'Task', s(shifting(0))),
          history.entered('Bake step', 'Wait', s(shifting(0))),
        );
      } else if (read === 3) {
        e.events.push(history.failed('RolledBack', 'stopped for the test'));
      }
    };
    const t = terminal({ tty: true });
    const spinner: string[] = [];
    const { code } = await bluegreen(`release --image ${V2} --wait`, {
      ...t,
      io: { ...t.io, status: (line) => spinner.push(line) },
    });
    expect(code).toBe(1);
    expect(spinner[0]).toMatch(/^⠋ Bake step \(step 1 of 3: green 25%, blue 75%\) \d/);
  });

  test('--wait --json: step, verdict and promoted events with stable fields; a dry run says what it would have done', async () => {
    const dry = { ...verdict(1, 25, 'next', 'fail: errors green 2% vs blue 0.2%'), result: 'fail' as const };
    const v1 = { ...dry, wouldHave: 'rollback' as const };
    const s = (release: Release) => ({ execution: 'v2-20261126T100500Z', release });
    let read = 0;
    aws.onHistoryRead = (e) => {
      if (read++ === 0) {
        e.events.push(
          history.started({ image: V2 }),
          history.entered('Shift traffic', 'Task', s(shifting(-1, [], { dryRun: true }))),
          history.exited('Shift traffic', 'Task', s(shifting(0, [], { dryRun: true }))),
          history.entered('Analyse step', 'Task', s(shifting(0, [], { dryRun: true }))),
          history.exited('Analyse step', 'Task', s(shifting(0, [v1], { dryRun: true }))),
          history.failed('RolledBack', 'later'),
        );
      }
    };
    const { out } = await bluegreen(`release --image ${V2} --strategy linear:25:2m --dry-run --wait --json`);
    const events = out.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => ['step', 'verdict'].includes(e.event as string))).toEqual([
      {
        event: 'step',
        at: expect.any(String),
        step: 1,
        of: 3,
        percent: 25,
        weights: { blue: 750, green: 250 },
      },
      {
        event: 'verdict',
        at: expect.any(String),
        step: 1,
        percent: 25,
        result: 'fail',
        action: 'next',
        wouldHave: 'rollback',
        summary: 'fail: errors green 2% vs blue 0.2%',
      },
    ]);
  });
});
