/**
 * Every path of a release, run through the synthesized state machine (the ASL `cdk synth` produces) with
 * aws-local-stepfunctions, each Task bound to the real step handler over an in-memory AWS (FakeWorld).
 */
import { FakeWorld, REPO, type Behaviour } from './support/fake-world';
import { runRelease as runOnPlatform, type ExecutionResult } from './support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;

function worldWith(behaviour: Behaviour, plan?: ConstructorParameters<typeof FakeWorld>[1]): FakeWorld {
  const world = new FakeWorld(V1, plan);
  world.behaviours.set(V2, behaviour);
  return world;
}

/** Traffic, record and lock are as before the release: blue live on v1, green idle at 0, no lock. */
function expectUntouched(world: FakeWorld): void {
  expect(world.weights).toEqual({ blue: 100, green: 0 });
  expect(world.testWeights).toEqual({ blue: 0, green: 100 });
  expect(world.record).toEqual({ liveColor: 'blue', images: { blue: V1, green: V1 } });
  expect(world.imageOf('blue')).toBe(V1);
  expect(world.services.blue.desired).toBe(2);
  expect(world.services.green.desired).toBe(0);
}

function expectEndedClean(world: FakeWorld, result: ExecutionResult, status: string): void {
  expect(world.lock).toBeUndefined();
  expect(world.capacityHeld).toBe(false);
  expect(world.published.map((p) => p.status)).toEqual([status]);
  expect(world.published[0].release).toBe('release-1');
  if (result.status === 'FAILED') {
    expect(world.published[0].error).toBe(result.error);
  }
}

describe.each(['ecs', 'asg'] as const)(
  'release workflow paths on %s (synthesized ASL, real handlers, local Step Functions)',
  (platform) => {
    const runRelease = (
      world: FakeWorld,
      input: unknown,
      options: Parameters<typeof runOnPlatform>[2] = {},
    ) => runOnPlatform(world, input, { ...options, platform });

    test('success: deploy → validate → switch → bake → finish; the old color is scaled down', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2 });

      expect(result.status).toBe('SUCCEEDED');
      expect(dedupe(result.states)).toEqual([
        'Start',
        'Prepare',
        'Deploy to idle color',
        'Wait for idle color',
        'Check idle color',
        'Idle color ready?',
        'Validate idle color',
        'Gradual shift?',
        'Switch traffic',
        'Bake: wait',
        'Check new live color',
        'Bake done?',
        'Keep old color warm',
        'Finish',
        'Outcome published?',
        'Released',
      ]);
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expect(world.testWeights).toEqual({ blue: 100, green: 0 });
      expect(world.record).toEqual({ liveColor: 'green', images: { blue: V1, green: V2 } });
      expect(world.imageOf('green')).toBe(V2);
      expect(world.services.green.desired).toBe(2);
      expect(world.services.blue.desired).toBe(0);
      expectEndedClean(world, result, 'SUCCEEDED');
      // The switch is one listener change, then the record: in that order.
      const switchCalls = world.calls.filter((c) => /setProductionWeights|record.write/.test(c));
      expect(switchCalls).toEqual(['router.setProductionWeights', 'record.write']);
      // Scaling is held from before the deploy until the release ends.
      const held = world.calls.filter((c) => /fleet\.(deploy|holdCapacity)|notifier/.test(c));
      expect(held).toEqual(['fleet.holdCapacity', 'fleet.deploy', 'fleet.holdCapacity', 'notifier.publish']);
    });

    test('success with keepIdleWarm: the old color keeps its capacity', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2 }, { settings: { keepIdleWarm: true } });
      expect(result.status).toBe('SUCCEEDED');
      expect(world.services.blue.desired).toBe(2);
      expect(world.published[0].cause).toContain('blue stays warm for a rollback');
    });

    test('deploy deadline: the idle color never gets healthy → DeployTimeout, traffic never moved', async () => {
      const world = worldWith('never-healthy');
      const result = await runRelease(world, { image: V2, deployTimeoutSeconds: 60 });

      expect(result).toMatchObject({ status: 'FAILED', error: 'DeployTimeout' });
      expect(result.cause).toMatch(
        /^Deploy of .*:v2 to green timed out after 60s \(\d+ checks\): not ready by the deadline/,
      );
      expect(result.cause).toContain('healthy targets 0/2');
      expect(result.cause).toContain('Traffic never moved: blue still serves every request');
      expect(result.states.slice(-2)).toEqual(['Abort', 'Aborted']);
      expectUntouched(world);
      expect(world.revisions.get(world.services.green.revision)?.image).toBe(V1);
      expect([...world.revisions.values()].filter((r) => r.image === V2).map((r) => r.active)).toEqual([
        false,
      ]);
      expectEndedClean(world, result, 'ABORTED');
    });

    test('crash-looping tasks → DeployFailed at once, without waiting for the deadline', async () => {
      const world = worldWith('crash');
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'DeployFailed' });
      expect(result.cause).toContain(
        'crash loop: 4 tasks stopped during the rollout (Essential container in task exited)',
      );
      expect(result.states.filter((s) => s === 'Check idle color')).toHaveLength(2);
      expectUntouched(world);
      expectEndedClean(world, result, 'ABORTED');
    });

    test('failed validation: the smoke checks name what failed → ValidationFailed, traffic never moved', async () => {
      const world = worldWith('fails-validation');
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
      expect(result.cause).toContain(
        'Validation of 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v2 on green (test listener) failed',
      );
      expect(result.cause).toContain(
        'GET /health: status 500, expected 200; GET /version: status 500, expected 200',
      );
      expect(world.calls).not.toContain('router.setProductionWeights');
      expectUntouched(world);
      expectEndedClean(world, result, 'ABORTED');
    });

    test('validation checks the version: an image that answers with another version fails', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: V2, version: '2.0.0' });
      expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationFailed' });
      expect(result.cause).toContain('GET /version: version "2.0.0" not in the response');
    });

    test('watch failure → rollback: health fails after the switch, traffic and record go back', async () => {
      const world = worldWith('fails-after-switch');
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
      expect(result.cause).toContain(
        'UnhealthyAfterSwitch: green (123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v2) failed during the bake, check 3: 3 consecutive failed health checks (threshold 3), last: GET /health: status 503',
      );
      expect(result.cause).toContain('Rolled back: all traffic is on blue again and the record says so');
      expect(result.states.slice(-3)).toEqual(['Check new live color', 'Roll back', 'Rolled back']);
      expectUntouched(world);
      expectEndedClean(world, result, 'ROLLED_BACK');
    });

    test('an alarm that enters ALARM after the switch rolls back at the first check: which, since when, what datapoint', async () => {
      const world = worldWith('alarms-after-switch');
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'RolledBack' });
      expect(result.cause).toMatch(
        /check 1: alarm shop-green-5xx in ALARM since 2026-11-26T\d\d:\d\d:\d\d\.000Z \(datapoint 12 \(Sum, 60s periods\) against threshold 5\): Threshold Crossed: 1 datapoint \[12\.0\]/,
      );
      expectUntouched(world);
    });

    test('rollback failure: fails loudly with RollbackFailed and a notification', async () => {
      const failEverySwitchBack = Array.from({ length: 10 }, (_, i) => ({
        operation: 'router.setProductionWeights',
        nth: i + 2,
      }));
      const world = worldWith('fails-after-switch', { transient: failEverySwitchBack });
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
      expect(result.cause).toMatch(
        /^Rollback failed \(ServiceUnavailable: Roll back: injected fault: router.setProductionWeights call \d+\)\. It was rolling back because UnhealthyAfterSwitch:/,
      );
      expect(result.cause).toContain('Traffic may still be on green');
      expect(result.states.slice(-2)).toEqual(['Report failed rollback', 'Rollback failed']);
      // The switch's one call, then the rollback's: 1 try + 3 retries by the state machine.
      expect(world.calls.filter((c) => c === 'router.setProductionWeights')).toHaveLength(5);
      expect(world.weights).toEqual({ blue: 0, green: 100 }); // honest: traffic is where the failure left it
      expectEndedClean(world, result, 'ROLLBACK_FAILED');
    });

    test('concurrent release refused: a second execution fails fast with ReleaseInProgress and touches nothing', async () => {
      const world = worldWith('good');
      world.lock = {
        owner: 'release-0',
        image: `${REPO}:v0`,
        since: '2026-11-26T09:59:00Z',
        expiresAt: Date.parse('2026-11-26T12:00:00Z'),
      };
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'ReleaseInProgress' });
      expect(result.cause).toContain(
        'Release release-0 (123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v0, started 2026-11-26T09:59:00Z) is in flight',
      );
      expect(result.cause).toContain('this execution changed nothing');
      expect(result.states).toEqual(['Start', 'Prepare', 'Refuse', 'Release refused']);
      expect(world.calls).toEqual(['lock.acquire', 'lock.release', 'notifier.publish']);
      expect(world.lock?.owner).toBe('release-0'); // the other release's lock is left alone
      expectUntouched(world);
    });

    test('two releases started together: exactly one runs, the other is refused', async () => {
      const world = worldWith('good');
      const [a, b] = await Promise.all([
        runRelease(world, { image: V2 }, { execution: 'release-a' }),
        runRelease(world, { image: V2 }, { execution: 'release-b' }),
      ]);
      expect([a.status, b.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
      expect([a.error, b.error]).toContain('ReleaseInProgress');
      expect(world.lock).toBeUndefined();
      expect(world.record.liveColor).toBe('green');
    });

    test('a lock whose lease ran out (a release that timed out) is taken over', async () => {
      const world = worldWith('good');
      world.lock = {
        owner: 'release-0',
        image: V1,
        since: '2026-11-25T00:00:00Z',
        expiresAt: Date.parse('2026-11-25T02:00:00Z'),
      };
      const result = await runRelease(world, { image: V2 });
      expect(result.status).toBe('SUCCEEDED');
      expect(world.lock).toBeUndefined();
    });

    test('drift refused: the listener is on green but the record says blue → Drift, nothing changed', async () => {
      const world = worldWith('good');
      world.weights = { blue: 0, green: 100 };
      const result = await runRelease(world, { image: V2 });
      expect(result).toMatchObject({ status: 'FAILED', error: 'Drift' });
      expect(result.cause).toContain(
        'the release record /bluegreen/shop/live-color says blue is live, but the production listener sends all production traffic to green',
      );
      expect(result.cause).toContain(
        'aws ssm put-parameter --name /bluegreen/shop/live-color --value green --overwrite',
      );
      expect(result.states).toEqual(['Start', 'Prepare', 'Refuse', 'Release refused']);
      expect(world.calls.filter((c) => /set|write|deploy|restore/.test(c))).toEqual([]);
      expect(world.weights).toEqual({ blue: 0, green: 100 });
      expectEndedClean(world, result, 'REFUSED');
    });

    test('bad input: InvalidInput names every wrong field, and nothing is touched (not even the lock)', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: 'nginx:latest', bakeSeconds: -1, colour: 'green' });
      expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      expect(result.cause).toBe(
        'Invalid release input; nothing was changed. input: unknown field(s) colour (allowed: image, version, startedBy, strategy, dryRun, bakeSeconds, watchIntervalSeconds, failureThreshold, deployTimeoutSeconds, deployPollSeconds, finishDelaySeconds); image: must be "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:<tag>" or "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:<digest>" (got "nginx:latest"); bakeSeconds: must be a whole number from 0 to 86400 (got -1)',
      );
      expect(world.calls).toEqual(['lock.release', 'notifier.publish']);
      expectUntouched(world);
      expect(world.published[0].status).toBe('REFUSED');
    });

    test('an image from another repository is refused', async () => {
      const world = worldWith('good');
      const result = await runRelease(world, { image: 'docker.io/library/nginx:1.27' });
      expect(result).toMatchObject({ status: 'FAILED', error: 'InvalidInput' });
      expect(result.cause).toContain(
        `image: must be "${REPO}:<tag>" or "${REPO}@sha256:<digest>" (got "docker.io/library/nginx:1.27")`,
      );
    });
  },
);

/** Collapses the repeated Wait → Check → Choice loops, to compare the shape of a path. */
function dedupe(states: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of states) {
    if (!out.includes(s)) {
      out.push(s);
    }
  }
  return out;
}
