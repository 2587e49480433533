/**
 * `bluegreen rollback` against the mock AWS (mock-aws.ts): to the still-warm previous color after a release, or
 * during a release's bake as the state machine would; its refusals, confirmations and races, each changing nothing.
 */
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { ME, MockAws, history, releaseOf } from './mock-aws';
import { bluegreen, terminal } from './support';
import { V1, V2, releasedKeptWarm, inFlight } from './operate-support';

let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

describe('bluegreen rollback', () => {
  test('after a release, to the still-warm previous color: listener, test rule and record move; lock released', async () => {
    releasedKeptWarm(aws);
    const { code, out } = await bluegreen('rollback --yes --reason checkout-errors');

    expect(code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.testWeights).toEqual({ blue: 0, green: 100 });
    expect(aws.record).toEqual({ live: 'blue', images: { blue: V1, green: V2 }, weights: '100,0' });
    expect(aws.lock).toBeUndefined();
    expect(aws.services.green.desired).toBe(2); // the rolled-back-from color stays up, idle
    expect(aws.published.map((p) => p.message.status)).toEqual(['ROLLED_BACK']);
    expect(aws.published[0].message.cause).toContain(
      `Rolled back by ${ME} with bluegreen rollback: checkout-errors.`,
    );
    expect(out).toContain(`Rolled back: blue (${V1}) serves all production traffic.`);
  });

  test('after a release, with auto scaling: the color taking traffic scales within its bounds, the other is pinned warm', async () => {
    releasedKeptWarm(aws);
    aws.scaling = { minCount: 2, maxCount: 20 };
    // Green live within 2..20 at 2 tasks; blue pinned warm at 2 (as Finish with keepIdleWarm leaves it).
    aws.bounds = {
      blue: { min: 2, max: 2, scaleInSuspended: true },
      green: { min: 2, max: 20, scaleInSuspended: false },
    };
    aws.record.capacity = { blue: '2,2', green: 'auto' };
    const { code, out } = await bluegreen('rollback --yes --reason checkout-errors');

    expect(code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.bounds.blue).toEqual({ min: 2, max: 20, scaleInSuspended: false });
    expect(aws.bounds.green).toEqual({ min: 2, max: 2, scaleInSuspended: true });
    expect(aws.record.capacity).toEqual({ blue: 'auto', green: '2,2' });
    expect(aws.services.green.desired).toBe(2);
    expect(aws.published[0].message.cause).toContain(
      'Scaling: blue scales within 2..20; green is pinned at its 2 task(s).',
    );
    expect(out).toContain(`Rolled back: blue (${V1}) serves all production traffic.`);
  });

  test("refused once the live release's contract migrations ran, even with the old color warm", async () => {
    releasedKeptWarm(aws);
    aws.migrationRecord = JSON.stringify({
      contracted: { image: V2, release: 'v2-20261126T100000Z', at: '2026-11-26T10:20:00.000Z' },
    });
    const status = await bluegreen('status');
    expect(status.out).toContain(`migrations: contract of ${V2} ran at 2026-11-26T10:20:00.000Z`);
    expect(status.out).toContain(`rollback: not possible: The contract migrations of ${V2} ran`);

    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain(
      `ContractRan: The contract migrations of ${V2} ran at 2026-11-26T10:20:00.000Z (release v2-20261126T100000Z): ` +
        'the schema the older version needs is gone, so sending traffic back to it would break production. Roll ' +
        'forward instead: release a fixed image. Nothing was changed.',
    );
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(aws.record.live).toBe('green');
    expect(aws.lock).toBeUndefined();
  });

  test("allowed while the live release's contract waits for the next release (the schema still fits both)", async () => {
    releasedKeptWarm(aws);
    aws.migrationRecord = JSON.stringify({
      contracted: { image: V1, release: 'v1-20261120T100000Z', at: '2026-11-20T10:20:00.000Z' },
      contractPending: {
        image: V2,
        release: 'v2-20261126T100000Z',
        taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4',
        since: '2026-11-26T10:20:00.000Z',
      },
    });
    expect((await bluegreen('status')).out).toContain(
      `the contract of ${V2} waits for the next release (a rollback stays possible until then)`,
    );
    const { code } = await bluegreen('rollback --yes');
    expect(code).toBe(0);
    expect(aws.record.live).toBe('blue');
  });

  test('refused when the previous color is not warm: nothing changes (no half switch)', async () => {
    aws.record = { live: 'green', images: { blue: V1, green: V2 } };
    aws.weights = { blue: 0, green: 100 };
    aws.services.green = { desired: 2, running: 2, revision: 'x' };
    aws.services.blue = { desired: 0, running: 0, revision: 'y' };
    const { code, err } = await bluegreen('rollback --yes');

    expect(code).toBe(1);
    expect(err).toContain('NotWarm: Cannot roll back to blue: blue has no running tasks');
    expect(err).toContain(`release the previous image again instead (bluegreen release --image ${V1})`);
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(aws.record.live).toBe('green');
  });

  test('refused when the previous color has fewer healthy targets than production needs', async () => {
    releasedKeptWarm(aws);
    aws.healthy.blue = 1;
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('blue has 1 healthy target(s) of the 2 needed');
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
  });

  test('asks for confirmation on a terminal; "no" changes nothing; without a terminal it needs --yes', async () => {
    releasedKeptWarm(aws);
    const no = await bluegreen('rollback', terminal({ tty: true, answer: false }));
    expect(no.code).toBe(1);
    expect(no.t.questions).toEqual([`Move all production traffic from green (${V2}) back to blue (${V1})?`]);
    expect(no.err).toContain('NotConfirmed');

    const piped = await bluegreen('rollback');
    expect(piped.code).toBe(2);
    expect(piped.err).toContain('confirm with --yes when not on a terminal');
    expect(aws.weights).toEqual({ blue: 0, green: 100 });

    const yes = await bluegreen('rollback', terminal({ tty: true, answer: true }));
    expect(yes.code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
  });

  test("during a release's bake: stops it, then rolls back as the state machine would", async () => {
    inFlight(aws, 'Bake: wait', 'Wait', true);
    const { code, out } = await bluegreen('rollback --yes --reason p99-regression');

    expect(code).toBe(0);
    expect(aws.sfn.commandCalls(StopExecutionCommand)[0].args[0].input).toMatchObject({
      error: 'ManualRollback',
      cause: `Rolled back by ${ME} with bluegreen rollback: p99-regression.`,
    });
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.testWeights).toEqual({ blue: 0, green: 100 });
    // The record is back, including what green runs (its image before the release).
    expect(aws.record).toEqual({ live: 'blue', images: { blue: V1, green: V1 }, weights: '100,0' });
    // Green is put back as it was (0 tasks of its old revision) and the release's revision retired.
    expect(aws.services.green).toMatchObject({
      desired: 0,
      revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:3',
    });
    expect(aws.retired).toEqual(['arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4']);
    expect(aws.lock).toBeUndefined();
    expect(aws.published[0].message).toMatchObject({
      status: 'ROLLED_BACK',
      release: 'v2-20261126T100000Z',
      error: 'RolledBack',
    });
    expect(out).toContain('ManualRollback: Rolled back by');
  });

  test('during the bake, a failed listener change is retried; if it keeps failing: exit 1, what to check', async () => {
    inFlight(aws, 'Bake: wait', 'Wait', true);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    aws.elb
      .on(ModifyListenerCommand)
      .rejectsOnce(throttled)
      .callsFake((input: { DefaultActions: { ForwardConfig: { TargetGroups: { Weight: number }[] } }[] }) => {
        const [blue, green] = input.DefaultActions[0].ForwardConfig.TargetGroups.map((g) => g.Weight);
        aws.weights = { blue, green };
        return {};
      });
    expect((await bluegreen('rollback --yes')).code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });

    aws.restore();
    aws = new MockAws();
    history.reset();
    inFlight(aws, 'Bake: wait', 'Wait', true);
    aws.elb.on(ModifyListenerCommand).rejects(throttled);
    const failed = await bluegreen('rollback --yes');
    expect(failed.code).toBe(1);
    expect(failed.err).toContain(
      'RollbackFailed: Release v2-20261126T100000Z was stopped, but rolling back failed: Throttling: Rate exceeded',
    );
    expect(failed.err).toContain('bluegreen status shows both and how to reconcile them');
    expect(aws.stopped).toHaveLength(1);
  });

  test("during the bake, the release's lock is taken over first, so its Stopped step cannot free it", async () => {
    inFlight(aws, 'Bake: wait', 'Wait', true);
    const owners: string[] = [];
    aws.beforeStop = (e) => {
      owners.push(aws.lock!.owner);
      // What the Stopped step does: release the lock only if this execution holds it.
      if (aws.lock?.owner === e.name) {
        aws.lock = undefined;
      }
    };
    expect((await bluegreen('rollback --yes')).code).toBe(0);
    expect(owners).toEqual([expect.stringMatching(/^manual-rollback-/)]);
    expect(aws.lock).toBeUndefined(); // released by the CLI when done
  });

  test('races, decided again after the confirmation and the stop; nothing moves and the lock is freed', async () => {
    const unchanged = () => {
      expect(aws.weights).toEqual({ blue: 0, green: 100 });
      expect(aws.record.live).toBe('green');
      expect(aws.lock).toBeUndefined();
    };
    // The release ended (and freed its lock) while the question was asked.
    inFlight(aws, 'Bake: wait', 'Wait', true);
    const ended = await bluegreen(
      'rollback',
      terminal({ tty: true, onConfirm: () => ((aws.lock = undefined), Promise.resolve(true)) }),
    );
    expect(ended.code).toBe(1);
    expect(ended.err).toContain('ReleaseEnded: Release v2-20261126T100000Z no longer holds the release lock');
    expect(aws.stopped).toHaveLength(0);
    unchanged();

    // It succeeded just before the stop arrived.
    aws.executions.length = 0;
    inFlight(aws, 'Bake: wait', 'Wait', true);
    aws.beforeStop = (e) => {
      e.status = 'SUCCEEDED';
    };
    const finished = await bluegreen('rollback --yes');
    expect(finished.code).toBe(1);
    expect(finished.err).toContain(
      'ended SUCCEEDED before it could be stopped; this command changed nothing',
    );
    unchanged();

    // It was stopped while Finish (which scales the old color down) was running.
    aws.executions.length = 0;
    inFlight(aws, 'Bake: wait', 'Wait', true);
    aws.beforeStop = (e) => {
      e.events.push(history.entered('Finish', 'Task', { execution: e.name, release: releaseOf(V2) }));
    };
    const busy = await bluegreen('rollback --yes');
    expect(busy.code).toBe(1);
    expect(busy.err).toContain('ReleaseBusy: Release v2-20261126T100000Z was stopped in "Finish"');
    unchanged();

    // The old color was scaled down while the question was asked.
    aws.executions.length = 0;
    aws.beforeStop = undefined;
    inFlight(aws, 'Bake: wait', 'Wait', true);
    const cold = await bluegreen(
      'rollback',
      terminal({
        tty: true,
        onConfirm: () => (
          (aws.services.blue = { desired: 0, running: 0, revision: 'x' }),
          Promise.resolve(true)
        ),
      }),
    );
    expect(cold.code).toBe(1);
    expect(cold.err).toContain('NotWarm: blue has no running tasks');
    expect(cold.err).toContain('the rollback did not go ahead (release v2-20261126T100000Z was stopped');
    unchanged();
  });

  test('after a release: the previous color scaled down while the question was asked → refused under the lock', async () => {
    releasedKeptWarm(aws);
    const t = terminal({
      tty: true,
      onConfirm: () => (
        (aws.services.blue = { desired: 0, running: 0, revision: 'x' }),
        Promise.resolve(true)
      ),
    });
    const { code, err } = await bluegreen('rollback', t);
    expect(code).toBe(1);
    expect(err).toContain('NotWarm: blue has no running tasks');
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
    expect(aws.lock).toBeUndefined();
  });

  test('Ctrl-C at the confirmation is a no', async () => {
    releasedKeptWarm(aws);
    const abort = Object.assign(new Error('Aborted with Ctrl+C'), { name: 'AbortError' });
    const { code, err } = await bluegreen(
      'rollback',
      terminal({ tty: true, onConfirm: () => Promise.reject(abort) }),
    );
    expect(code).toBe(1);
    expect(err).toContain('NotConfirmed');
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
  });

  test('before the switch there is nothing to roll back: refused, the release is not stopped', async () => {
    inFlight(aws, 'Validate idle color', 'Task', false);
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain(
      'NothingToRollBack: Release v2-20261126T100000Z is in "Validate idle color": production traffic has not moved',
    );
    expect(aws.sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  test('mid-switch: refused, try again in a moment', async () => {
    inFlight(aws, 'Switch traffic', 'Task', false);
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('ReleaseBusy: Release v2-20261126T100000Z is in "Switch traffic" right now');
  });

  test('drift: refused, nothing changed', async () => {
    aws.weights = { blue: 50, green: 50 };
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('Drift: ');
    expect(err).toContain('rolling back now would be a guess');
    expect(aws.weights).toEqual({ blue: 50, green: 50 });
  });

  test("a lock held without a running release (another operator's rollback): refused", async () => {
    releasedKeptWarm(aws);
    aws.lock = {
      owner: 'manual-rollback-x',
      image: V1,
      since: '2026-11-26T10:04:00.000Z',
      expiresAt: Date.parse('2026-11-26T10:14:00Z') / 1000,
    };
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('ReleaseInProgress: manual-rollback-x');
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
  });
});
