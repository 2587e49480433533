import { stopped } from '../../../lambda/workflow/conclude';
import { FakeWorld } from '../../support/fake-world';
import { SETTINGS } from '../../support/run-workflow';

const held = (world: FakeWorld, owner: string) => {
  world.lock = { owner, image: 'repo:v9', since: 'earlier', expiresAt: world.clock + 3_600_000 };
};

describe('stopped: a release that timed out or was stopped', () => {
  test('releases its lock, lets scaling act and reports that traffic and record agree', async () => {
    const world = new FakeWorld();
    held(world, 'release-9');
    world.capacityHeld = true;
    const { outcome, published } = await stopped(
      { execution: 'release-9', status: 'TIMED_OUT' },
      world.deps(),
      SETTINGS,
    );
    expect(world.lock).toBeUndefined();
    expect(world.capacityHeld).toBe(false);
    expect(published).toBe(true);
    expect(outcome).toMatchObject({ status: 'STOPPED', error: 'TIMED_OUT', release: 'release-9' });
    expect(outcome.cause).toBe(
      'Release release-9 ended TIMED_OUT before its last step (no rollback or cleanup of its own ran); its lock is ' +
        'free and scaling acts again. Now: all production traffic to blue, and the record agrees. The idle color ' +
        "may still run the release's revision; the next release replaces it.",
    );
    expect(world.published).toEqual([outcome]);
  });

  test('stopped mid-switch: reports the drift (both values, how to reconcile) and changes nothing', async () => {
    const world = new FakeWorld();
    world.weights = { blue: 0, green: 100 };
    held(world, 'release-9');
    const { outcome } = await stopped(
      { execution: 'release-9', status: 'ABORTED', endedIn: 'Switch traffic' },
      world.deps(),
      SETTINGS,
    );
    expect(outcome.cause).toContain('ended ABORTED in "Switch traffic" before its last step');
    expect(outcome.cause).toContain(
      'says blue is live, but the production listener sends all production traffic to green',
    );
    expect(world.record.liveColor).toBe('blue');
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.lock).toBeUndefined();
  });

  test('stopped while its Roll back step ran: says that step may have done part of its work, not that none ran', async () => {
    const world = new FakeWorld();
    held(world, 'release-9');
    const { outcome } = await stopped(
      {
        execution: 'release-9',
        status: 'TIMED_OUT',
        endedIn: 'Roll back',
        release: { live: 'blue', image: 'repo:v2' },
      },
      world.deps(),
      SETTINGS,
    );
    expect(outcome.cause).toContain(
      'ended TIMED_OUT while its "Roll back" step ran, which may have done part of its work; its lock is free',
    );
    expect(outcome.cause).not.toContain('no rollback');
  });

  test('stopped by bluegreen rollback: says so, and who rolls back', async () => {
    const world = new FakeWorld();
    const { outcome } = await stopped(
      {
        execution: 'release-9',
        status: 'ABORTED',
        error: 'ManualRollback',
        cause: 'Rolled back by alice with bluegreen rollback: errors.',
      },
      world.deps(),
      SETTINGS,
    );
    expect(outcome.cause).toContain(
      'ended ABORTED (ManualRollback: Rolled back by alice with bluegreen rollback: errors.) before its last step',
    );
    expect(outcome.cause).toContain('The operator who stopped it rolls traffic, record and idle color back');
  });

  test('lets scaling act while it still holds the lock: no new release can start and hold scaling in between', async () => {
    const world = new FakeWorld();
    held(world, 'release-9');
    world.capacityHeld = true;
    await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, world.deps(), SETTINGS);
    const resumed = world.calls.lastIndexOf('fleet.holdCapacity');
    expect(resumed).toBeGreaterThan(-1);
    expect(world.calls.indexOf('lock.release')).toBeGreaterThan(resumed);
  });

  test('never frees another release’s lock, nor lets scaling act while that release holds it', async () => {
    const world = new FakeWorld();
    held(world, 'release-10');
    world.capacityHeld = true;
    const { outcome } = await stopped({ execution: 'release-9', status: 'ABORTED' }, world.deps(), SETTINGS);
    expect(world.lock?.owner).toBe('release-10');
    expect(world.capacityHeld).toBe(true);
    expect(world.calls).not.toContain('fleet.holdCapacity');
    expect(outcome.cause).toContain('scaling stays held for release-10, which holds the lock now');
  });

  test('an expired lease of another release does not keep scaling held', async () => {
    const world = new FakeWorld();
    world.lock = { owner: 'release-8', image: 'repo:v8', since: 'long ago', expiresAt: world.clock - 1000 };
    world.capacityHeld = true;
    await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, world.deps(), SETTINGS);
    expect(world.capacityHeld).toBe(false);
    expect(world.lock?.owner).toBe('release-8');
  });

  test('an ending whose own step reported it is not published again', async () => {
    const world = new FakeWorld();
    const { outcome, published } = await stopped(
      { execution: 'release-9', status: 'FAILED', error: 'RolledBack', cause: '...', endedIn: 'Rolled back' },
      world.deps(),
      SETTINGS,
    );
    expect(published).toBe(false);
    expect(world.published).toEqual([]);
    expect(outcome.cause).toBe(
      'Release release-9 ended in "Rolled back", whose step reported it; its lock is free and scaling acts again.',
    );
  });

  test('a FAILED execution whose history cannot be read is reported (rather than maybe never)', async () => {
    const world = new FakeWorld();
    const { published, outcome } = await stopped(
      { execution: 'release-9', status: 'FAILED', error: 'Sandbox.Timedout', cause: 'Task timed out' },
      world.deps(),
      SETTINGS,
    );
    expect(published).toBe(true);
    expect(outcome.status).toBe('STOPPED');
    expect(outcome.cause).toContain(
      'ended FAILED (its history could not be read) (Sandbox.Timedout: Task timed out): its ending step did not finish',
    );
  });

  describe('an unfinished release is undone where it can be', () => {
    const alarm = {
      color: 'green' as const,
      name: 'shop-green-5xx',
      since: '2026-11-26T10:05:00Z',
      reason: 'Threshold Crossed',
      datapoint: 'datapoint 9',
    };
    /** After the switch: green live in listener and record, blue still warm. */
    const afterSwitch = () => {
      const world = new FakeWorld();
      world.weights = { blue: 0, green: 100 };
      world.record = { liveColor: 'green', images: { blue: world.record.images.blue, green: 'repo:v2' } };
      world.services.green.desired = 2;
      world.services.green.running = 2;
      held(world, 'release-9');
      return world;
    };
    const release = { live: 'blue' as const };

    test('timed out in the bake with the new color in ALARM: all traffic back on the warm old color, the record follows', async () => {
      const world = afterSwitch();
      world.alarmStates.set(alarm.name, alarm);
      const images = { ...world.record.images };
      const { outcome } = await stopped(
        { execution: 'release-9', status: 'TIMED_OUT', endedIn: 'Bake: wait', release },
        world.deps(),
        SETTINGS,
      );
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expect(world.testWeights).toEqual({ blue: 0, green: 100 });
      expect(world.record).toEqual({ liveColor: 'blue', images });
      expect(outcome.cause).toContain(
        'The release did not finish, and blue, live before it, can serve (blue: 2 of 2 targets healthy; green: ' +
          '2 of 2 targets healthy; alarm shop-green-5xx in ALARM): production traffic (all production traffic to ' +
          'green) goes back to blue. Done: all production traffic is on blue, and the record says so. Now: all ' +
          'production traffic to blue, and the record agrees.',
      );
      expect(world.lock).toBeUndefined();
    });

    test('stopped before the switch with the listener moved to the new color: back on the old one', async () => {
      const world = new FakeWorld();
      world.weights = { blue: 50, green: 50 };
      await stopped({ execution: 'release-9', status: 'ABORTED', release }, world.deps(), SETTINGS);
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expect(world.record.liveColor).toBe('blue');
    });

    test('the old color already scaled down: traffic stays on the new color, which can serve', async () => {
      const world = afterSwitch();
      world.services.blue.desired = 0;
      world.services.blue.running = 0;
      const { outcome } = await stopped(
        { execution: 'release-9', status: 'ABORTED', endedIn: 'Finish', release },
        world.deps(),
        SETTINGS,
      );
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(world.record.liveColor).toBe('green');
      expect(outcome.cause).toContain(
        'blue, live before the release, cannot serve; all production traffic to green, which can',
      );
    });

    test('neither color can serve: nothing moves, and the cause says what to do', async () => {
      const world = afterSwitch();
      world.alarmStates.set(alarm.name, alarm);
      world.services.blue.running = 0;
      const { outcome } = await stopped(
        { execution: 'release-9', status: 'TIMED_OUT', release },
        world.deps(),
        SETTINGS,
      );
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(outcome.cause).toContain(
        'is not on a color fit to serve, and blue, live before the release, cannot',
      );
      expect(outcome.cause).toContain('blue: 0 of 2 targets healthy');
    });

    test('a Finish that failed after the release went live keeps it live while the new color can serve', async () => {
      const world = afterSwitch();
      const { outcome } = await stopped(
        {
          execution: 'release-9',
          status: 'FAILED',
          endedIn: 'Finish cleanup failed',
          error: 'Lambda.Unknown',
          release,
        },
        world.deps(),
        SETTINGS,
      );
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.cause).toContain(
        'The release had gone live: all production traffic to green, which can serve',
      );
    });

    test('a rollback that failed, and whose report failed too: the Stopped step moves traffic back, and says it rolled back', async () => {
      const world = afterSwitch();
      world.alarmStates.set(alarm.name, alarm);
      const { outcome } = await stopped(
        {
          execution: 'release-9',
          status: 'FAILED',
          endedIn: 'Rollback failed (report failed)',
          error: 'Lambda.Unknown',
          release,
        },
        world.deps(),
        SETTINGS,
      );
      expect(world.weights).toEqual({ blue: 100, green: 0 });
      expect(outcome.status).toBe('ROLLED_BACK');
      expect(outcome.cause).not.toContain('switch back by hand');
    });

    test('never for a ManualRollback (the operator rolls back), nor while another release holds the lock', async () => {
      for (const [error, owner] of [
        ['ManualRollback', 'release-9'],
        [undefined, 'release-10'],
      ] as const) {
        const world = afterSwitch();
        world.alarmStates.set(alarm.name, alarm);
        held(world, owner);
        const { outcome } = await stopped(
          { execution: 'release-9', status: 'ABORTED', error, release },
          world.deps(),
          SETTINGS,
        );
        expect(world.weights).toEqual({ blue: 0, green: 100 });
        expect(world.record.liveColor).toBe('green');
        if (owner === 'release-10') {
          expect(outcome.cause).toContain('release-10 holds the lock now: its traffic is its own');
        }
      }
    });
  });

  test('"Report contract failure" failed too: the Stopped step records the contract as pending, and says so', async () => {
    const world = new FakeWorld();
    world.weights = { blue: 0, green: 100 };
    world.record = { liveColor: 'green', images: { blue: world.record.images.blue, green: 'repo:v2' } };
    world.services.green.desired = 2;
    world.services.green.running = 2;
    const { outcome } = await stopped(
      {
        execution: 'release-9',
        status: 'FAILED',
        endedIn: 'Live, contract failed (report failed)',
        error: 'Lambda.Unknown',
        release: { live: 'blue', image: 'repo:v2', migrationTask: 'shop-migrate:7' },
      },
      world.deps(),
      SETTINGS,
    );
    expect(world.migrationState.contractPending).toEqual({
      image: 'repo:v2',
      release: 'release-9',
      taskDefinition: 'shop-migrate:7',
      since: expect.stringMatching(/^2026-11-26T10:00:\d\d\.000Z$/) as unknown,
    });
    expect(outcome.status).toBe('CONTRACT_FAILED');
    expect(outcome.cause).toContain(
      'the contract migrations of repo:v2 failed and are recorded as pending: the next release runs them first',
    );
    expect(outcome.cause).not.toContain('may not be recorded');
  });
});
