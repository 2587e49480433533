/**
 * The rehearsal's operator running `bluegreen rollback` after the old color went cold: the same core as the CLI
 * (lambda/workflow/cold-rollback.ts), with the rehearsal's ports (local fleet, load balancer, record, lock), while
 * the load keeps running. Its figures: time to restore from the "confirmation", with the scale-up, the smoke checks
 * and the switch; and the requests users sent meanwhile, with how many failed.
 */
import type { WorkflowDeps } from '../lambda/shared/ports';
import type { WorkflowSettings } from '../lambda/shared/release';
import { notWarmBecause } from '../lambda/shared/decisions';
import { otherColor, type Color } from '../lambda/shared/release-record';
import { routeAllTo } from '../lambda/workflow/switch';
import { coldRollback } from '../lambda/workflow/cold-rollback';
import {
  planColdRollback,
  type ColdRollbackResult,
  type ColdRollbackSettings,
} from '../lambda/workflow/cold-rollback-plan';
import { validateLocally } from '../lambda/workflow/cold-validate';
import type { LocalFleet } from './fleet';
import type { Sample } from './load';

export interface ColdRollbackRun {
  readonly ok: boolean;
  /**
   * With `warmBack` (the bench): the operator then moves traffic forward again to the color that stayed warm, with
   * the warm rollback's moves; from its confirmation to the listener and record read back.
   */
  readonly warm?: { readonly restoreMs: number; readonly to: string };
  /** The result (ok), or the refusal's name and cause. */
  readonly result?: ColdRollbackResult;
  readonly error?: { readonly name: string; readonly message: string };
  /** Epoch ms: the operator's confirmation, and the switch read back (or the failure). */
  readonly startedAt: number;
  readonly doneAt: number;
  /** The version the old color ran, which the smoke checks expected. */
  readonly version?: string;
}

/** One line for people: "cold rollback: restored in X s (scale-up Y s, smoke Z s, switch W ms)". */
export function describeColdRollback(run: ColdRollbackRun): string {
  if (!run.ok || !run.result) {
    return `cold rollback: FAILED ${run.error?.name ?? ''}: ${run.error?.message ?? ''}`;
  }
  const t = run.result.timings;
  return (
    `cold rollback: restored in ${(t.restoreMs / 1000).toFixed(2)} s (scale-up ${(t.scaleUpMs / 1000).toFixed(2)} s, ` +
    `smoke ${(t.smokeMs / 1000).toFixed(2)} s, switch ${t.switchMs} ms)`
  );
}

/** Requests sent while the cold rollback ran (from the confirmation to 1 s after the switch), and the failed. */
export function requestsDuring(run: ColdRollbackRun, samples: readonly Sample[]) {
  const during = samples.filter((s) => s.startedAt >= run.startedAt && s.startedAt < run.doneAt + 1000);
  return {
    requests: during.length,
    failed: during.filter((s) => s.status === 0 || s.status >= 500).length,
  };
}

/** Rolls back to the color the last release scaled to 0, as `bluegreen rollback --yes` does. */
export async function playColdRollback(
  deps: WorkflowDeps,
  settings: WorkflowSettings,
  fleet: LocalFleet,
  log: (line: string) => void,
  options: { readonly warmBack?: boolean } = {},
): Promise<ColdRollbackRun> {
  const cold: ColdRollbackSettings = {
    appName: settings.appName,
    ...(settings.scaling ? { scaling: settings.scaling } : {}),
    recordParameter: `/bluegreen/${settings.appName}/live-color`,
    windowHours: 24,
    timeoutSeconds: settings.timings.deployTimeoutSeconds,
    pollSeconds: 0.25,
  };
  const coldDeps = {
    ...deps,
    ...(deps.migrations ? { migrationRecord: deps.migrations.record } : {}),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    // The Validate step's own core with the rehearsal's ports (the CLI invokes the stack's Validate Lambda).
    validateColor: validateLocally(deps, settings),
  };
  // The release that made the live color live has just ended.
  const liveSince = new Date();
  const startedAt = Date.now();
  try {
    const plan = await planColdRollback(coldDeps, cold, { liveSince });
    const version = fleet.running(plan.to)?.version;
    log(
      `  operator: bluegreen rollback --yes (${plan.to} went cold: ${plan.count} task(s) of ${plan.image} to start)`,
    );
    const confirmedAt = new Date();
    const result = await coldRollback(
      {
        owner: `cold-rollback-${confirmedAt.getTime()}`,
        by: 'npm start (local rehearsal)',
        reason: 'the rehearsal rolls back after the old color went cold',
        confirmedAt,
        plan,
        liveSince,
        ...(version ? { version } : {}),
      },
      coldDeps,
      cold,
      (p) => log(`    ${p.at.toISOString().slice(11, 23)} ${p.line}`),
    );
    const run = { ok: true, result, startedAt: confirmedAt.getTime(), doneAt: Date.now(), version };
    log(`  ${describeColdRollback(run)}; ${otherColor(result.to)} stays warm`);
    if (options.warmBack) {
      const warm = await warmRollback(result.to, deps);
      log(`  warm rollback to ${warm.to}: restored in ${(warm.restoreMs / 1000).toFixed(3)} s`);
      return { ...run, warm };
    }
    return run;
  } catch (e) {
    const error = e as Error;
    const run = {
      ok: false,
      error: { name: error.name, message: error.message },
      startedAt,
      doneAt: Date.now(),
    };
    log(`  ${describeColdRollback(run)}`);
    return run;
  }
}

/**
 * `bluegreen rollback` while the other color is warm, as the CLI does it after a release: the lock, fresh reads
 * (record, listener, the warm color's tasks and targets), the switch's own move, the result read back.
 */
async function warmRollback(from: Color, deps: WorkflowDeps): Promise<{ restoreMs: number; to: string }> {
  const to = otherColor(from);
  const confirmedAt = Date.now();
  const owner = `manual-rollback-${confirmedAt}`;
  const now = new Date();
  const lock = await deps.lock.acquire(owner, 'warm', now, new Date(now.getTime() + 600_000));
  if (!lock.acquired) {
    throw new Error(`the lock is held by ${lock.holder}`);
  }
  try {
    const [record, , fleet, health] = await Promise.all([
      deps.record.read(),
      deps.router.productionWeights(),
      deps.fleet.describe(to),
      deps.router.targetHealth(to),
      deps.fleet.describe(from),
    ]);
    const why = notWarmBecause({ color: to, fleet, health, liveTasks: fleet.running });
    if (record.liveColor !== from || why) {
      throw new Error(`no warm rollback to ${to}: ${why ?? `the record says ${record.liveColor}`}`);
    }
    await routeAllTo(to, deps);
    const [after, weights] = await Promise.all([deps.record.read(), deps.router.productionWeights()]);
    if (after.liveColor !== to || weights[to] === 0 || weights[from] !== 0) {
      throw new Error(`the warm rollback to ${to} did not land`);
    }
    return { restoreMs: Date.now() - confirmedAt, to };
  } finally {
    await deps.lock.release(owner);
  }
}
