/**
 * Operating a release during its gradual shift: `promote` (a request on the lock), `status` (strategy, step,
 * split, verdicts) and `rollback` from a split listener (one listener change, stickiness off).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { Release } from '../../lambda/shared/release';
import { ME, MockAws, history } from './mock-aws';
import {
  inShift as inShiftOf,
  LINEAR,
  NAME,
  PASS_1,
  PASS_2,
  shifting,
  V1,
  V2,
  verdict,
} from './shift-support';
import { bluegreen, terminal } from './support';

let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

/** The world mid-shift (see shift-support.ts), in this test's AWS. */
const inShift = (state: string, type: string, release: Release, stickySeconds?: number) =>
  inShiftOf(aws, state, type, release, stickySeconds);

describe('bluegreen promote', () => {
  test('records who asked on the lock of the release in flight; says when the next analysis comes', async () => {
    inShift('Bake step', 'Wait', shifting(0, []));
    // 10:05:00 now; the step's bake (120 s) began at 10:04:00: the next analysis is due within a minute.
    aws.executions[0].events[1].timestamp = new Date('2026-11-26T10:04:00Z');
    const { code, out } = await bluegreen('promote --yes');
    expect(code).toBe(0);
    expect(aws.lock?.promotion).toEqual({ by: ME, at: '2026-11-26T10:05:00.000Z' });
    expect(aws.lock?.owner).toBe(NAME);
    expect(out.split('\n')).toEqual([
      `Promotion requested for release ${NAME} (${V2}) by ${ME}, at step 1 of 3: green 25%, blue 75%.`,
      '  The next analysis (within 1m00s) skips the remaining steps to 100%: all production traffic moves to ' +
        'green once it is re-checked. Follow it with bluegreen status.',
    ]);
    // Traffic is the release's to move: the CLI changed nothing else.
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(aws.weights).toEqual({ blue: 750, green: 250 });

    // Asked again: already requested, nothing rewritten.
    const again = await bluegreen('promote --yes');
    expect(again.code).toBe(0);
    expect(again.out).toBe(
      `Release ${NAME} was already promoted by ${ME} at 2026-11-26T10:05:00.000Z; nothing was changed.`,
    );
    expect(aws.ddb.commandCalls(UpdateItemCommand)).toHaveLength(1);
  });

  test('asks on a terminal; needs --yes elsewhere; a no changes nothing', async () => {
    inShift('Analyse step', 'Task', shifting(1, [verdict(1, 25, 'next', PASS_1)]));
    const no = await bluegreen('promote', terminal({ tty: true, answer: false }));
    expect(no.code).toBe(1);
    expect(no.t.questions).toEqual([
      `Skip the remaining steps of release ${NAME} (linear 25% steps (25, 50, 75%) of 2 min each, then 100%; now ` +
        `step 2 of 3: green 50%, blue 50%) and move all production traffic to green (${V2}) at its next analysis?`,
    ]);
    const piped = await bluegreen('promote');
    expect(piped.code).toBe(2);
    expect(piped.err).toContain('confirm with --yes when not on a terminal');
    expect(aws.lock?.promotion).toBeUndefined();

    const json = await bluegreen('promote --yes --json');
    expect(JSON.parse(json.out)).toEqual({
      release: NAME,
      promoted: true,
      by: ME,
      at: '2026-11-26T10:05:00.000Z',
      state: 'Analyse step',
      step: 2,
      of: 3,
      nextAnalysisWithinSeconds: 120,
    });
  });

  test.each([
    [
      'no release in flight',
      () => undefined,
      'NothingInFlight: No release of shop is in flight, so there is nothing to promote.',
    ],
    [
      'a release before its shift',
      () => inShift('Deploy to idle color', 'Task', shifting(-1)),
      `NotShifting: Release ${NAME} is in "Deploy to idle color", not in a gradual shift: promote skips the remaining ` +
        'steps between "Shift traffic" and "Switch traffic"; nothing was requested.',
    ],
    [
      'an all-at-once release',
      () =>
        inShift('Bake: wait', 'Wait', {
          ...shifting(0),
          strategy: { type: 'all-at-once' },
          shift: undefined,
        }),
      `NotShifting: Release ${NAME} moves production traffic all at once (strategy all-at-once): it has no shift ` +
        'steps to skip; nothing was requested.',
    ],
  ])('refused with one line when there is %s', async (_what, world, message) => {
    world();
    const { code, err } = await bluegreen('promote --yes');
    expect(code).toBe(1);
    expect(err).toBe(message);
    expect(aws.ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('refused when the release no longer holds the lock (it ended meanwhile): nothing recorded', async () => {
    inShift('Bake step', 'Wait', shifting(0));
    aws.lock!.owner = 'manual-rollback-x';
    const { code, err } = await bluegreen('promote --yes');
    expect(code).toBe(1);
    expect(err).toContain(`ReleaseEnded: Release ${NAME} no longer holds the release lock`);
    expect(aws.lock?.promotion).toBeUndefined();
  });
});

describe('bluegreen status during a gradual shift', () => {
  test('the strategy, the step, the split (no drift: the release set it) and the latest verdicts', async () => {
    const verdicts = [verdict(1, 25, 'next', PASS_1), verdict(2, 50, 'next', PASS_2)];
    inShift('Bake step', 'Wait', shifting(2, verdicts));
    const { code, out } = await bluegreen('status');
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      'shop: blue is live, shifting to green (production traffic split blue 25% / green 75%)',
      '',
      '  color  role  traffic  tasks  healthy targets  image',
      `  blue   live  25%      2/2    2/2              ${V1}`,
      `  green  idle  75%      2/2    2/2              ${V2}`,
      '',
      'rollback: possible: blue is warm and can take all traffic back (bluegreen rollback)',
      `release in flight: ${NAME} (${V2}), in "Bake step" for 4m58s`,
      '  strategy: linear 25% steps (25, 50, 75%) of 2 min each, then 100%',
      '  step 3 of 3: green 75%, blue 25%',
      '  verdicts:',
      `    ${PASS_1}`,
      `    ${PASS_2}`,
    ]);
  });

  test('a promotion asked for and not yet acted on; --json has the shift as stable fields', async () => {
    inShift('Analyse step', 'Task', shifting(0, [], { dryRun: true }));
    aws.lock!.promotion = { by: ME, at: '2026-11-26T10:04:00.000Z' };
    const { out } = await bluegreen('status');
    expect(out).toContain(
      '  strategy: linear 25% steps (25, 50, 75%) of 2 min each, then 100% (dry run: verdicts are reported, not acted on)',
    );
    expect(out).toContain(
      `  promotion requested by ${ME} at 2026-11-26T10:04:00.000Z: the next analysis skips the remaining steps to 100%`,
    );
    const report = JSON.parse((await bluegreen('status --json')).out);
    expect(report.drift).toBeUndefined();
    expect(report.shift).toMatchObject({
      from: 'blue',
      to: 'green',
      strategy: LINEAR,
      steps: [25, 50, 75],
      step: 0,
      weights: { blue: 750, green: 250 },
      dryRun: true,
      verdicts: [],
      promotionRequested: { by: ME, at: '2026-11-26T10:04:00.000Z' },
    });
    expect(report.rollback).toEqual({ to: 'blue', possible: true });
  });

  test('a split the release did not set, or with no release shifting, is drift: rollback changes nothing', async () => {
    inShift('Bake step', 'Wait', shifting(0));
    aws.weights = { blue: 500, green: 500 };
    const { out } = await bluegreen('status');
    expect(out).toContain(
      'DRIFT: the record says blue is live, but the listener sends production traffic split',
    );

    // The release was stopped mid-shift and nothing took traffic back: no rollback can tell where to go.
    aws.executions[0].status = 'ABORTED';
    aws.lock = undefined;
    aws.weights = { blue: 750, green: 250 };
    const refused = await bluegreen('rollback --yes');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /^Drift: Drift: the release record \/bluegreen\/shop\/live-color says blue is live/,
    );
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });
});

describe('bluegreen rollback during a gradual shift', () => {
  test.each([
    ['Bake step', 'Wait'],
    ['Analyse step', 'Task'],
    ['Step verdict', 'Choice'],
  ])(
    'in "%s": stops the release, then all traffic back to blue in one listener change, stickiness off',
    async (state, type) => {
      inShift(state, type, shifting(1, [verdict(1, 25, 'next', PASS_1)]), 300);
      expect(aws.weights).toEqual({ blue: 500, green: 500 });
      const { code, out } = await bluegreen('rollback --yes --reason canary-errors');

      expect(code).toBe(0);
      expect(aws.sfn.commandCalls(StopExecutionCommand)[0].args[0].input).toMatchObject({
        error: 'ManualRollback',
        cause: `Rolled back by ${ME} with bluegreen rollback: canary-errors.`,
      });
      const changes = aws.elb.commandCalls(ModifyListenerCommand);
      expect(changes).toHaveLength(1);
      expect(changes[0].args[0].input.DefaultActions![0].ForwardConfig).toMatchObject({
        TargetGroups: [{ Weight: 100 }, { Weight: 0 }],
        TargetGroupStickinessConfig: { Enabled: false },
      });
      expect(aws.weights).toEqual({ blue: 100, green: 0 });
      expect(aws.stickySeconds).toBeUndefined();
      expect(aws.testWeights).toEqual({ blue: 0, green: 100 });
      expect(aws.record).toEqual({ live: 'blue', images: { blue: V1, green: V1 }, weights: '100,0' });
      expect(aws.services.green).toMatchObject({
        desired: 0,
        revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:3',
      });
      expect(aws.lock).toBeUndefined();
      expect(aws.published.map((p) => p.message)).toEqual([
        expect.objectContaining({ status: 'ROLLED_BACK', release: NAME, liveColor: 'blue' }),
      ]);
      expect(out).toContain(`Rolled back: blue (${V1}) serves all production traffic.`);
    },
  );

  test('asks with the step it is at; while a step sets its weights, refused: nothing changes', async () => {
    inShift('Bake step', 'Wait', shifting(0));
    const no = await bluegreen('rollback', terminal({ tty: true, answer: false }));
    expect(no.t.questions).toEqual([
      `Stop release ${NAME} and move all production traffic from green (${V2}, now step 1 of 3: green 25%, blue 75%) ` +
        `back to blue (${V1})?`,
    ]);

    aws.executions.length = 0;
    inShift('Shift traffic', 'Task', shifting(0));
    const busy = await bluegreen('rollback --yes');
    expect(busy.code).toBe(1);
    expect(busy.err).toContain(
      `ReleaseBusy: Release ${NAME} is in "Shift traffic" right now; nothing was changed.`,
    );
    expect(aws.stopped).toHaveLength(0);
    expect(aws.weights).toEqual({ blue: 750, green: 250 });
  });

  test('decided again on the state it was stopped in: a newer step is rolled back; a step setting weights is not', async () => {
    // The release moved on to its next step between the read and the stop: its last state says 50/50, as the
    // listener does, so the rollback goes ahead from there.
    inShift('Bake step', 'Wait', shifting(0));
    aws.beforeStop = (e) => {
      const next = shifting(1, [verdict(1, 25, 'next', PASS_1)]);
      e.events.push(
        history.entered('Shift traffic', 'Task', { execution: NAME, release: shifting(0) }),
        history.exited('Shift traffic', 'Task', { execution: NAME, release: next }),
        history.entered('Bake step', 'Wait', { execution: NAME, release: next }),
      );
      aws.weights = { blue: 500, green: 500 };
    };
    expect((await bluegreen('rollback --yes')).code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.record.live).toBe('blue');

    // Stopped while "Shift traffic" was setting the next weights: its Lambda may still be running, so the
    // listener is left alone.
    aws.restore();
    aws = new MockAws();
    history.reset();
    inShift('Bake step', 'Wait', shifting(0));
    aws.beforeStop = (e) => {
      e.events.push(history.entered('Shift traffic', 'Task', { execution: NAME, release: shifting(0) }));
    };
    const busy = await bluegreen('rollback --yes');
    expect(busy.code).toBe(1);
    expect(busy.err).toContain(`ReleaseBusy: Release ${NAME} was stopped in "Shift traffic"`);
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(aws.lock).toBeUndefined();
  });

  test('refused when blue can no longer take all of production: nothing changes', async () => {
    inShift('Bake step', 'Wait', shifting(0));
    aws.healthy.blue = 1;
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('NotWarm: Cannot roll back release');
    expect(err).toContain('blue has 1 healthy target(s) of the 2 needed');
    expect(aws.stopped).toHaveLength(0);
    expect(aws.weights).toEqual({ blue: 750, green: 250 });
  });
});
