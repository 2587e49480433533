/**
 * The re-checks before every irreversible act, through the synthesized state machine with the real handlers over
 * an in-memory AWS whose state a test changes mid-release: the production listener moved under the release
 * (during the bake, between the bake and Finish, before a contract), alarms in ALARM since before the switch, a
 * rotated test token.
 */
import { FakeWorld, REPO } from './support/fake-world';
import { runRelease as runOnPlatform, type ExecutionResult } from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

function goodWorld(): FakeWorld {
  const world = new FakeWorld(V1);
  world.behaviours.set(V2, 'good');
  return world;
}

/** Every ending: traffic on a healthy color, the record equal to the listener, lock free, scaling back, published. */
function expectTruthfulEnding(world: FakeWorld, result: ExecutionResult, status: string): void {
  const live = world.liveTarget();
  expect(live).toBeDefined();
  expect(world.record.liveColor).toBe(live);
  expect(world.services[live!].running).toBeGreaterThanOrEqual(2);
  expect(world.record.images[live!]).toBe(world.imageOf(live!));
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
  expect(world.published.map((p) => p.status)).toEqual([status]);
  if (result.status === 'FAILED') {
    expect(world.published[0].error).toBe(result.error);
  }
}

/**
 * Runs `act` once, `afterSeconds` of the world's clock after the switch: right after the switch's writes for 0,
 * else at the first now() from then on (a bake check calls it after reading the listener, alarms and probe).
 */
function afterSwitch(world: FakeWorld, afterSeconds: number, act: () => void): void {
  let switchedAt: number | undefined;
  let done = false;
  const once = () => {
    done = true;
    act();
  };
  world.onCall = (call, n) => {
    if (call === 'router.setProductionWeights' && n === 1) {
      switchedAt = world.clock; // the switch took its time just before changing the listener
    } else if (call === 'record.write' && n === 1 && afterSeconds === 0) {
      once(); // the listener already points at the new color; the record is being written
    } else if (call === 'now' && switchedAt !== undefined && !done && afterSeconds > 0) {
      if (world.clock >= switchedAt + afterSeconds * 1000) {
        once();
      }
    }
  };
}

describe.each(['ecs', 'asg'] as const)('re-checks before irreversible acts on %s', (platform) => {
  const runRelease = (world: FakeWorld, input: unknown, options: Parameters<typeof runOnPlatform>[2] = {}) =>
    runOnPlatform(world, input, { ...options, platform });

  test('the listener moved back to the old color during the bake (a stale cdk deploy): not Released; rolled back, record = listener', async () => {
    const world = goodWorld();
    // Right after the switch: a change set created before it executes with the weights it resolved then.
    afterSwitch(world, 0, () => void (world.weights = { blue: 100, green: 0 }));
    const result = await runRelease(world, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.states).not.toContain('Released');
    expect(result.states).not.toContain('Finish');
    expect(result.states.slice(-3)).toEqual(['Check new live color', 'Roll back', 'Rolled back']);
    expect(result.cause).toContain(
      'TrafficMovedDuringRelease: The production listener no longer sends all traffic to green',
    );
    expect(result.cause).toContain('it now sends all production traffic to blue (bake check 1)');
    expect(result.cause).toContain('a cdk deploy whose change set was created before the switch');
    expect(result.cause).toContain('Rolled back: all traffic is on blue again and the record says so');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record).toEqual({ liveColor: 'blue', images: { blue: V1, green: V1 } });
    expect(world.services.blue.desired).toBe(2); // the color with all the traffic was never scaled down
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('the listener split between both colors during the bake: rolled back to the old, warm color', async () => {
    const world = goodWorld();
    afterSwitch(world, 20, () => void (world.weights = { blue: 50, green: 50 }));
    const result = await runRelease(world, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.cause).toContain('it now sends production traffic split blue 50% / green 50%');
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.services.blue.desired).toBe(2);
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('the listener moved between the bake and Finish: Finish never scales the color with the traffic', async () => {
    const world = goodWorld();
    // At the bake's last check, after it read the listener: the next look at it is Finish's.
    afterSwitch(world, 60, () => void (world.weights = { blue: 100, green: 0 }));
    const result = await runRelease(world, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.states.slice(-4)).toEqual(['Keep old color warm', 'Finish', 'Roll back', 'Rolled back']);
    expect(result.cause).toContain(
      'TrafficMovedDuringRelease: The production listener, read by Finish, sends all production traffic to blue, not all traffic to green',
    );
    expect(world.services.blue.desired).toBe(2);
    expect(world.calls.filter((c) => c === 'fleet.restore')).toHaveLength(1); // green put back, never blue
    expect(world.record.liveColor).toBe('blue');
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  const staleAlarm = {
    color: 'green' as const,
    name: 'shop-green-unhealthy-hosts',
    since: '2026-11-26T10:00:10.000Z', // while green deployed, before the switch
    reason: 'Threshold Crossed: 1 datapoint [2.0] was greater than or equal to the threshold (1.0).',
    datapoint: 'datapoint 2 (Maximum, 60s periods) against threshold 1',
  };

  test('an alarm in ALARM since before the switch (unhealthy hosts while the idle color deployed) is not acted on during the bake: back to OK by its end, the release goes on', async () => {
    const world = goodWorld();
    world.alarmStates.set(staleAlarm.name, staleAlarm);
    world.onCall = (call, n) => {
      // The bake's first check still sees it in ALARM; CloudWatch puts it back to OK after that.
      if (call === 'alarms.firing' && n === 2) {
        world.alarmStates.delete(staleAlarm.name);
      }
    };
    const result = await runRelease(world, { image: V2 });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.record.liveColor).toBe('green');
    const watch = result.output?.release?.watch;
    expect(watch?.ignoredAlarms).toEqual([]);
    expect(watch?.checked).toContain('GET /version answers with "v2"');
    expectTruthfulEnding(world, result, 'SUCCEEDED');
  });

  test('an alarm in ALARM since before the switch and still in ALARM when the bake ends rolls back, naming it', async () => {
    const world = goodWorld();
    world.alarmStates.set(staleAlarm.name, staleAlarm);
    const result = await runRelease(world, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.cause).toMatch(
      /alarm shop-green-unhealthy-hosts in ALARM since 2026-11-26T10:00:10\.000Z \(datapoint 2 .*\): Threshold Crossed: .*: in ALARM since before the switch and still at the end of the bake/,
    );
    expect(world.record.liveColor).toBe('blue');
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('an alarm that reaches ALARM after the switch rolls back, naming it, since when and its datapoint', async () => {
    const world = goodWorld();
    let since = '';
    afterSwitch(world, 20, () => {
      since = new Date(world.clock).toISOString();
      world.alarmStates.set('shop-green-p99-latency', {
        color: 'green',
        name: 'shop-green-p99-latency',
        since,
        reason: 'Threshold Crossed: 3 datapoints were greater than or equal to the threshold (1000.0).',
        datapoint: 'datapoints 1830, 2210, 1954 (p99, 60s periods) against threshold 1000',
      });
    });
    const result = await runRelease(world, { image: V2 });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.cause).toContain(
      `alarm shop-green-p99-latency in ALARM since ${since} (datapoints 1830, 2210, 1954 (p99, 60s periods) against threshold 1000): Threshold Crossed: 3 datapoints`,
    );
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('the test token was rotated while the Lambda was warm: one 403, the secret is read again, validation passes', async () => {
    const world = goodWorld();
    world.cachedToken = 'token-before-rotation';
    world.secret = 'token-after-rotation';
    const result = await runRelease(world, { image: V2 });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.calls.filter((c) => c === 'testToken')).toHaveLength(2);
    expectTruthfulEnding(world, result, 'SUCCEEDED');
  });

  test('a token the listener refuses even when read fresh: ValidationFailed says so, after one re-read', async () => {
    const world = goodWorld();
    world.cachedToken = 'stale';
    world.secret = 'the-secret';
    world.listenerToken = 'a-value-nobody-put-in-the-secret'; // the rule was changed, the secret was not
    const result = await runRelease(world, { image: V2 });
    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
    expect(result.cause).toContain('GET /health: status 403, expected 200');
    expect(result.cause).toContain(
      'the test listener answers 403 to the token read just now from the secret',
    );
    expect(world.calls.filter((c) => c === 'testToken')).toHaveLength(2);
  });
});

describe('with migrations: nothing scales a color down, and no contract runs, while it has production weight', () => {
  test('the listener moved back to the old color before "Scale old color down": no scale-down, no contract, rolled back', async () => {
    const world = goodWorld();
    // After the bake and the warm wait, just before the old color would go down for the contract.
    afterSwitch(world, 60, () => void (world.weights = { blue: 100, green: 0 }));
    const result = await runOnPlatform(world, { image: V2 }, { migrations: {} });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.states).toContain('Scale old color down');
    expect(result.states).not.toContain('Contract database');
    expect(result.states.slice(-2)).toEqual(['Roll back', 'Rolled back']);
    expect(result.cause).toContain(
      'TrafficMovedDuringRelease: Refused to scale blue down before the contract: the production listener, read just now, sends all production traffic to blue',
    );
    expect(world.migrationRuns.map((r) => r.phase)).toEqual(['expand', 'backfill']);
    expect(world.services.blue.desired).toBe(2);
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('the new color lost its tasks before "Scale old color down": the old color stays up, no contract, rolled back', async () => {
    const world = goodWorld();
    // After the bake and the warm wait: green's tasks are gone (its targets drain), blue is still warm.
    afterSwitch(world, 60, () => {
      world.services.green.running = 0;
    });
    const result = await runOnPlatform(world, { image: V2 }, { migrations: {} });

    expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
    expect(result.states).toContain('Scale old color down');
    expect(result.states).not.toContain('Contract database');
    expect(result.cause).toContain(
      'UnhealthyAfterSwitch: green takes all production traffic but has no healthy target',
    );
    expect(world.migrationRuns.map((r) => r.phase)).toEqual(['expand', 'backfill']);
    expect(world.services.blue.desired).toBe(2);
    expectTruthfulEnding(world, result, 'ROLLED_BACK');
  });

  test('the listener moved to the old color while the contract ran: Finish puts all traffic back on the new color and fails loudly', async () => {
    const world = goodWorld();
    // As the contract task ends: the old color is already at 0, so this is an outage until Finish sees it.
    let moved = false;
    const tasks = world.tasks();
    world.tasks = () => ({
      run: async (task) => {
        const out = await tasks.run(task);
        if (task.command[task.command.length - 1] === 'contract' && !moved) {
          moved = true;
          world.weights = { blue: 100, green: 0 };
        }
        return out;
      },
    });
    const result = await runOnPlatform(world, { image: V2 }, { migrations: {} });

    expect(result).toMatchObject({ status: 'FAILED', error: 'TrafficMovedDuringRelease' });
    expect(result.cause).toContain(
      'The production listener, read by Finish, sends all production traffic to blue',
    );
    expect(result.cause).toContain(
      'all traffic is back on green, which passed the bake, and the record says so',
    );
    expect(world.weights).toEqual({ blue: 0, green: 100 });
    expect(world.record.liveColor).toBe('green');
    expect(world.services.blue.desired).toBe(0);
    expectTruthfulEnding(world, result, 'SUCCEEDED');
    expect(world.published[0].error).toBe('TrafficMovedDuringRelease');
  });
});
