/**
 * The cold rollback's core (lambda/workflow/cold-rollback.ts) against the in-memory world (cold-rollback-support.ts):
 * its success paths and its refusals and failures, each leaving traffic, the record and the lock as they were; the
 * window counted from when the record made the live color live. Every assertion counts the world's recorded calls and
 * state. The lock's part is in cold-rollback-lock.test.ts.
 */
import { coldRollback } from '../../../lambda/workflow/cold-rollback';
import {
  planColdRollback,
  type ColdProgress,
  type ColdRollbackDeps,
} from '../../../lambda/workflow/cold-rollback-plan';
import { REPO } from '../../support/fake-world';
import { V1, V2, OWNER, SETTINGS, afterRelease, depsOf, run, untouched } from './cold-rollback-support';

describe('cold rollback: the previous version back on its own revision, then all traffic to it', () => {
  test('succeeds: scale up before any traffic moves, smoke before the switch, the lock held throughout and freed', async () => {
    const { world, blueRevision } = afterRelease();
    // Every port call after the lock is taken, with whether we held the lock at that moment.
    const held: { call: string; ours: boolean }[] = [];
    // A release starting while blue starts: the lock refuses it.
    let rival: Promise<{ acquired: boolean }> | undefined;
    const rivalLock = world.deps().lock;
    world.onCall = (call) => {
      if (world.lock?.owner === OWNER || held.length > 0) {
        held.push({ call, ours: world.lock?.owner === OWNER });
      }
      if (call === 'router.targetHealth' && rival === undefined) {
        const now = new Date(world.clock);
        rival = rivalLock.acquire('v3-20261126T100100Z', `${REPO}:v3`, now, new Date(now.getTime() + 60_000));
      }
    };
    const { result, progress, plan } = await run(world);

    expect(plan).toEqual({
      to: 'blue',
      from: 'green',
      image: V1,
      revision: blueRevision,
      count: 2,
      fromImage: V2,
    });
    expect(result).toMatchObject({ to: 'blue', from: 'green', image: V1, revision: blueRevision, count: 2 });
    expect(world.weights).toEqual({ blue: 100, green: 0 });
    expect(world.record.liveColor).toBe('blue');
    expect(world.testWeights).toEqual({ blue: 0, green: 100 });
    expect(world.services.blue).toMatchObject({ revision: blueRevision, desired: 2, running: 2 });
    // The color that was live stays warm: the fast way forward.
    expect(world.services.green).toMatchObject({ desired: 2, running: 2 });

    const calls = world.calls;
    const first = (name: string) => calls.indexOf(name);
    const acquired = first('lock.acquire');
    const restored = first('fleet.restore');
    const probed = first('probe.get');
    const switched = first('router.setProductionWeights');
    expect(acquired).toBeGreaterThanOrEqual(0);
    expect(acquired).toBeLessThan(restored);
    expect(restored).toBeLessThan(probed);
    expect(probed).toBeLessThan(switched);
    expect(calls.lastIndexOf('probe.get')).toBeLessThan(switched);
    expect(calls.filter((c) => c === 'router.setProductionWeights')).toHaveLength(1);
    expect(calls.lastIndexOf('lock.release')).toBeGreaterThan(switched);
    // Every call from the acquire to the release ran under our lock; it is free afterwards.
    const release = held.findIndex((h) => h.call === 'lock.release');
    expect(held.slice(0, release + 1).every((h) => h.ours)).toBe(true);
    expect(await rival).toMatchObject({ acquired: false, holder: OWNER });
    expect(world.lock).toBeUndefined();

    expect(result.checks.map((c) => [c.name, c.passed])).toEqual([
      ['GET /health', true],
      ['GET /version', true],
      ['target health', true],
    ]);
    expect(result.checks[1].threshold).toContain('body contains v1');
    expect(world.published).toHaveLength(1);
    expect(world.published[0]).toMatchObject({ status: 'ROLLED_BACK', liveColor: 'blue', release: OWNER });
    expect(world.published[0].cause).toMatch(
      /^Cold rollback by arn:aws:sts::123456789012:assumed-role\/ops\/alice: v2 corrupts carts\. blue was at 0 tasks: 2 task\(s\) of .*:v1 \(shop-blue:1\) were started and healthy in \d+\.\d s, the smoke checks passed in \d+\.\d s \(version v1\), and all production traffic moved to blue in \d+ ms: restored in \d+\.\d s from the confirmation\. green keeps running .*:v2, idle and warm/,
    );
    // Restored counts from the confirmation: it includes the scale-up, the smoke checks and the switch.
    const t = result.timings;
    expect(t.restoreMs).toBeGreaterThanOrEqual(t.scaleUpMs + t.smokeMs + t.switchMs);
    expect(progress.map((p) => p.phase)).toEqual([
      'locked',
      'scale-up',
      'waiting',
      'healthy',
      'smoke',
      'switched',
    ]);
    expect(progress.find((p) => p.phase === 'waiting')).toMatchObject({
      line: 'blue: 2/2 tasks running, 2 healthy',
      counts: { running: 2, desired: 2, healthy: 2 },
    });
  });

  test('an unknown previous version: the version check is skipped, and the output says so', async () => {
    const { world } = afterRelease();
    const { result, progress } = await run(world, { version: '' });
    // No version to look for: every check passes on status and latency alone.
    expect(result.checks.every((c) => c.passed)).toBe(true);
    expect(progress.find((p) => p.phase === 'smoke')?.line).toContain('/version was not checked');
    expect(result.message).toContain('version not checked: unknown');
  });

  test('never healthy within the deadline: NotHealthy, blue back to 0, traffic untouched, the lock free', async () => {
    const { world } = afterRelease();
    world.behaviours.set(V1, 'never-healthy');
    await expect(run(world)).rejects.toMatchObject({
      name: 'NotHealthy',
      message: expect.stringMatching(
        /^Cold rollback to blue \(.*:v1\) did not switch: blue did not become healthy: not ready by the deadline .*healthy targets 0\/2.* blue was put back to 0\. Production traffic was not touched: green keeps serving .*:v2\.$/,
      ),
    });
    untouched(world);
    expect(world.lock).toBeUndefined();
    expect(world.calls).not.toContain('probe.get');
    // It waited, between looks, the poll interval.
    expect(world.calls.filter((c) => c === 'router.targetHealth').length).toBeGreaterThan(1);
  });

  test('failures the fleet counted before (an asg counts them since the version was made) are no crash loop; new ones are', async () => {
    for (const fresh of [0, 3]) {
      const { world } = afterRelease();
      const deps = depsOf(world);
      const describe = (color: 'blue' | 'green', revision?: string) => deps.fleet.describe(color, revision);
      let restored = false;
      const fleet = {
        ...deps.fleet,
        restore: (...args: Parameters<typeof deps.fleet.restore>) => {
          restored = args[0] === 'blue' && args[1] > 0;
          return deps.fleet.restore(...args);
        },
        // Blue's revision had 5 failed launches days ago; `fresh` more once it is started again.
        describe: async (color: 'blue' | 'green', revision?: string) => {
          const status = await describe(color, revision);
          return color === 'blue' ? { ...status, failedTasks: 5 + (restored ? fresh : 0) } : status;
        },
      };
      const confirmedAt = deps.now();
      const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
      const plan = await planColdRollback(deps, SETTINGS, { liveSince });
      const request = { owner: OWNER, by: 'alice', confirmedAt, plan, liveSince, version: 'v1' };
      const outcome = coldRollback(request, { ...deps, fleet }, SETTINGS);
      if (fresh === 0) {
        await expect(outcome).resolves.toMatchObject({ to: 'blue' });
      } else {
        await expect(outcome).rejects.toMatchObject({
          name: 'NotHealthy',
          message: expect.stringContaining('crash loop: 3 tasks stopped during the rollout'),
        });
        untouched(world);
      }
    }
  });

  test('the smoke checks fail: SmokeChecksFailed with the values, blue back to 0, traffic untouched, the lock free', async () => {
    const { world } = afterRelease();
    world.behaviours.set(V1, 'fails-validation');
    await expect(run(world)).rejects.toMatchObject({
      name: 'SmokeChecksFailed',
      message: expect.stringContaining('GET /health: status 500, expected 200'),
    });
    untouched(world);
    expect(world.lock).toBeUndefined();
  });

  test('the revision was deregistered: RevisionGone naming it, nothing changed', async () => {
    const { world, blueRevision } = afterRelease();
    world.revisions.get(blueRevision)!.active = false;
    await expect(run(world)).rejects.toMatchObject({
      name: 'RevisionGone',
      message:
        `blue's revision shop-blue:1 (${V1}) can no longer run: task definition shop-blue:1 is INACTIVE ` +
        `(deregistered). Nothing was changed. Release the image again instead: bluegreen release --image ${V1}.`,
    });
    untouched(world);
    expect(world.calls).not.toContain('fleet.restore');
    expect(world.calls).not.toContain('lock.acquire');
  });

  test("the live version's contract ran: ContractRan, nothing changed", async () => {
    const { world } = afterRelease();
    world.migrationState = {
      contracted: { image: V2, release: 'v2-20261126T090000Z', at: '2026-11-26T09:10:00Z' },
    };
    await expect(run(world)).rejects.toMatchObject({
      name: 'ContractRan',
      message: expect.stringContaining(`The contract migrations of ${V2} ran at 2026-11-26T09:10:00Z`),
    });
    untouched(world);
    expect(world.calls).not.toContain('fleet.restore');
  });

  test('the last release ended outside the window: OutsideWindow, saying when, nothing changed', async () => {
    const { world } = afterRelease();
    const liveSince = new Date(world.clock - 30 * 3_600_000);
    await expect(run(world, { liveSince })).rejects.toMatchObject({
      name: 'OutsideWindow',
      message: expect.stringMatching(
        new RegExp(
          `^green became live at ${liveSince.toISOString().replace(/\./g, '\\.')} \\(30\\.0 h ago\\), outside the cold rollback window of 24 h .* bluegreen release --image .*:v1\\.$`,
        ),
      ),
    });
    await expect(run(world, { liveSince: null })).rejects.toMatchObject({ name: 'OutsideWindow' });
    untouched(world);
  });

  test('a release took the lock after the confirmation: ReleaseInProgress, nothing changed, its lock kept', async () => {
    const { world } = afterRelease();
    const deps = depsOf(world);
    const confirmedAt = deps.now();
    const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
    const plan = await planColdRollback(deps, SETTINGS, { liveSince });
    // The release starts between the question and the answer.
    world.lock = {
      owner: 'v3-20261126T100100Z',
      image: `${REPO}:v3`,
      since: 'now',
      expiresAt: world.clock + 3_600_000,
    };
    await expect(
      coldRollback(
        { owner: OWNER, by: 'alice', confirmedAt, plan, liveSince, version: 'v1' },
        deps,
        SETTINGS,
      ),
    ).rejects.toMatchObject({
      name: 'ReleaseInProgress',
      message: expect.stringContaining('v3-20261126T100100Z'),
    });
    untouched(world);
    expect(world.lock?.owner).toBe('v3-20261126T100100Z');
    // Before the confirmation too: the plan refuses.
    await expect(planColdRollback(deps, SETTINGS, { liveSince })).rejects.toMatchObject({
      name: 'ReleaseInProgress',
    });
  });

  test('drift between record and listener: refused, nothing changed', async () => {
    const { world } = afterRelease();
    world.weights = { blue: 100, green: 0 };
    await expect(run(world)).rejects.toMatchObject({ name: 'Drift' });
    expect(world.services.blue.desired).toBe(0);
    expect(world.weightChanges).toEqual([]);
  });

  test('with auto scaling: blue held at the live count while it starts, then auto; green pinned warm', async () => {
    const { world } = afterRelease();
    world.record.liveColor = 'green';
    world.enableScaling({ minCount: 2, maxCount: 6 });
    const scaling = { minCount: 2, maxCount: 6 };
    await run(world, { settings: { scaling } });
    const blue = world.boundChanges.filter((b) => b.color === 'blue').map((b) => b.bounds);
    expect(blue[0]).toEqual({ min: 2, max: 6, scaleInSuspended: true });
    expect(world.scaling).toEqual({
      blue: { min: 2, max: 6, scaleInSuspended: false },
      green: { min: 2, max: 2, scaleInSuspended: true },
    });
    expect(world.recordedCapacity).toEqual({ blue: 'auto', green: { min: 2, max: 2 } });
  });

  test('with auto scaling, a failure puts blue back at 0 with the bounds it had (0..0, auto)', async () => {
    const { world } = afterRelease();
    world.enableScaling({ minCount: 2, maxCount: 6 });
    world.behaviours.set(V1, 'fails-validation');
    await expect(run(world, { settings: { scaling: { minCount: 2, maxCount: 6 } } })).rejects.toMatchObject({
      name: 'SmokeChecksFailed',
      message: expect.stringContaining('blue was put back to 0 (bounds 0..0 as before)'),
    });
    expect(world.scaling!.blue).toEqual({ min: 0, max: 0, scaleInSuspended: false });
    expect(world.recordedCapacity).toEqual({ blue: 'auto', green: 'auto' });
    untouched(world);
  });
});

test("blue's revision runs another image than the record names: RevisionMismatch with both, nothing changed", async () => {
  const { world } = afterRelease();
  // The record says v1, but blue's service was left on a revision of v0 (a deploy outside bluegreen).
  const v0 = world.register('blue', `${REPO}:v0`);
  world.services.blue = { ...world.services.blue, revision: v0 };
  await expect(run(world)).rejects.toMatchObject({
    name: 'RevisionMismatch',
    message: expect.stringContaining(`runs ${REPO}:v0, but the record says blue runs ${V1}`),
  });
  untouched(world);
  expect(world.lock).toBeUndefined();
});

describe('the window counts from when the record made the live color live', () => {
  test('a release that went live but ended FAILED (not in the history): the record says when, so it proceeds', async () => {
    const { world } = afterRelease();
    world.record.liveSince = new Date(world.clock - 2 * 3_600_000).toISOString();
    // The history found no finished release that made green live (it ended FAILED after its switch).
    const { result } = await run(world, { liveSince: null });
    expect(result.to).toBe('blue');
  });

  test('the record made green live 30 h ago, a later release of the same image is no excuse: OutsideWindow', async () => {
    const { world } = afterRelease();
    const since = new Date(world.clock - 30 * 3_600_000);
    world.record.liveSince = since.toISOString();
    await expect(run(world)).rejects.toMatchObject({
      name: 'OutsideWindow',
      message: expect.stringContaining(`green became live at ${since.toISOString()}`),
    });
    untouched(world);
  });
});

test('green scales out during the smoke checks: blue follows it to 3 and the rollback switches', async () => {
  const { world } = afterRelease();
  const deps = depsOf(world);
  let validations = 0;
  const validateColor: ColdRollbackDeps['validateColor'] = async (target) => {
    validations += 1;
    if (validations === 1) {
      world.services.green = { ...world.services.green, desired: 3, running: 3 };
    }
    return deps.validateColor(target);
  };
  const confirmedAt = deps.now();
  const liveSince = new Date(confirmedAt.getTime() - 3_600_000);
  const plan = await planColdRollback(deps, SETTINGS, { liveSince });
  const progress: ColdProgress[] = [];
  const result = await coldRollback(
    { owner: OWNER, by: 'alice', confirmedAt, plan, liveSince, version: 'v1' },
    { ...deps, validateColor },
    SETTINGS,
    (p) => progress.push(p),
  );
  expect(result).toMatchObject({ to: 'blue', count: 3 });
  expect(world.services.blue).toMatchObject({ desired: 3, running: 3 });
  expect(world.weights).toEqual({ blue: 100, green: 0 });
  expect(progress.map((p) => p.line)).toContain('green now runs 3: blue follows it from 2');
  expect(world.lock).toBeUndefined();
});
