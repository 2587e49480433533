/**
 * Database migrations around a release, in the only safe order:
 *
 *   expand (before the idle color gets the new version) → backfill (after validation, before the switch) →
 *   contract (once the old color is scaled down and can no longer take traffic back).
 *
 * The phases themselves run as one-off ECS tasks, started and awaited by the state machine (ECS RunTask .sync);
 * the steps here register the task definition they run with, scale the old color down before a contract, and
 * keep the migration record: a contract that waits for the next release (old color kept warm), and the newest
 * contract that ran, which no rollback may cross.
 */
import { BluegreenError, ReleaseErrors } from '../shared/errors';
import type { MigrationRecord, MigrationState, MigrationTasks, WorkflowDeps } from '../shared/ports';
import {
  causeMessage,
  requireRelease,
  type MigrationPhase,
  type ReleaseState,
  type WorkflowSettings,
} from '../shared/release';
import { scaleOldDown } from './capacity';
import { requireServing, scaleUnlessServing } from './traffic-guard';

/** The error each phase's failure is reported with. */
const PHASE_ERRORS: Readonly<Record<MigrationPhase, string>> = {
  expand: ReleaseErrors.ExpandFailed,
  backfill: ReleaseErrors.BackfillFailed,
  contract: ReleaseErrors.ContractFailed,
  previousContract: ReleaseErrors.ContractFailed,
};

const PHASE_NAMES: Readonly<Record<MigrationPhase, string>> = {
  expand: 'The expand migrations',
  backfill: 'The backfill migrations',
  contract: 'The contract migrations',
  previousContract: "The previous release's contract migrations",
};

/** The migration ports, or a clear error when a migration step runs without them (a wiring mistake). */
export function migrationPorts(deps: Pick<WorkflowDeps, 'migrations'>): {
  record: MigrationRecord;
  tasks: MigrationTasks;
} {
  if (!deps.migrations) {
    throw new BluegreenError(
      'ConfigurationMissing',
      'This step runs migrations, but the workflow was given no migration record or tasks.',
    );
  }
  return deps.migrations;
}

/**
 * The contract a release must run at its start: the previous release's, when it waits (old color kept warm) and
 * the live color still runs that release's image. When the live image is another one (an operator rolled back
 * to the old version after that release), the pending contract is void: the live code needs the old schema.
 */
export function pendingContractToRun(
  state: MigrationState,
  liveImage: string,
): { image: string; release: string; taskDefinition: string } | undefined {
  const pending = state.contractPending;
  if (!pending || pending.image !== liveImage) {
    return undefined;
  }
  return { image: pending.image, release: pending.release, taskDefinition: pending.taskDefinition };
}

/**
 * Why traffic may not go back from the live color (running `liveImage`) to the other one, if a contract ran for
 * the live release: the other color's code needs the schema the contract removed. Undefined when it may.
 */
export function rollbackBlockedByContract(state: MigrationState, liveImage: string): string | undefined {
  const done = state.contracted;
  if (!done || done.image !== liveImage) {
    return undefined;
  }
  return (
    `The contract migrations of ${done.image} ran at ${done.at} (release ${done.release}): the schema the older ` +
    'version needs is gone, so sending traffic back to it would break production. Roll forward instead: release ' +
    'a fixed image.'
  );
}

/**
 * A failed migration task, as an operator should read it: which phase, what the task said (exit code, stop
 * reason), and where things stand. `failure` is what Step Functions' Catch recorded for the ECS RunTask .sync
 * state: States.TaskFailed with the stopped task as JSON, States.Timeout, or an ECS API error.
 */
export function migrationFailure(
  phase: MigrationPhase,
  failure: { readonly Error: string; readonly Cause: string },
  context: { readonly image: string; readonly timeoutSeconds?: number },
): { error: string; cause: string } {
  const what = `${PHASE_NAMES[phase]} of ${context.image}`;
  let detail: string;
  if (failure.Error === 'States.Timeout') {
    const limit = context.timeoutSeconds ? ` within ${Math.round(context.timeoutSeconds / 60)} min` : '';
    detail = `did not finish${limit} (migrations.timeoutMinutes); Step Functions stopped the task.`;
  } else {
    const task = stoppedTask(failure.Cause);
    if (task) {
      const id = task.taskArn?.split('/').pop();
      const codes = task.containers
        .filter((c) => c.exitCode !== undefined || c.reason)
        .map(
          (c) => `${c.name ?? 'container'} exit code ${c.exitCode ?? '?'}${c.reason ? ` (${c.reason})` : ''}`,
        );
      detail =
        `failed: the task${id ? ` ${id}` : ''} stopped${task.stoppedReason ? ` (${task.stoppedReason})` : ''}` +
        `${codes.length ? `, ${codes.join(', ')}` : ''}.` +
        (id ? ` Its output is in CloudWatch Logs, in the log stream ending in ${id}.` : '');
    } else {
      detail = `could not run (${failure.Error}: ${causeMessage(failure.Cause) || 'no cause given'}).`;
    }
  }
  const consequence: Record<MigrationPhase, string> = {
    expand: 'Nothing was deployed; the live version keeps running on the schema as it was.',
    backfill: 'No switch: the live version keeps serving on the expanded schema, which it works with.',
    contract: 'Traffic was not touched: the new version stays live.',
    previousContract:
      'This release deployed nothing. The next release runs that contract again first: fix its cause before.',
  };
  return { error: PHASE_ERRORS[phase], cause: `${what} ${detail} ${consequence[phase]}` };
}

interface StoppedTask {
  taskArn?: string;
  stoppedReason?: string;
  containers: { name?: string; exitCode?: number; reason?: string }[];
}

/** The ECS task in a RunTask .sync failure's cause (DescribeTasks' shape, PascalCase), if it is one. */
function stoppedTask(cause: string): StoppedTask | undefined {
  try {
    const t = JSON.parse(cause) as {
      TaskArn?: string;
      StoppedReason?: string;
      Containers?: { Name?: string; ExitCode?: number; Reason?: string }[];
    };
    if (typeof t !== 'object' || t === null || (!t.TaskArn && !t.Containers)) {
      return undefined;
    }
    return {
      taskArn: t.TaskArn,
      stoppedReason: t.StoppedReason,
      containers: (t.Containers ?? []).map((c) => ({ name: c.Name, exitCode: c.ExitCode, reason: c.Reason })),
    };
  } catch {
    return undefined;
  }
}

/**
 * State "Register new revision": the release's revision, registered but not yet running, and the task definition
 * the migration phases run with (so expand runs the new image before any color does).
 */
export async function registerRevision(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'fleet' | 'migrations'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const { tasks } = migrationPorts(deps);
  const revision = await deps.fleet.register(release.idle, release.image, release.version);
  const migrationTask = await tasks.taskDefinition({
    image: release.image,
    version: release.version,
    revision,
  });
  return { ...state, release: { ...release, revision, migrationTask } };
}

/**
 * State "Scale old color down": before a contract, the color that runs the older version goes to zero, so that
 * nothing can send traffic back to it. After the switch that is the color the release started from; at a
 * release's start (the previous release's contract) it is the idle color, which then stays down if this release
 * aborts.
 */
export async function scaleDownOldColor(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'fleet' | 'router' | 'record'>,
  settings: Pick<WorkflowSettings, 'scaling'> = {},
): Promise<ReleaseState> {
  const release = requireRelease(state);
  // Never a color with production weight (read just now): TrafficMovedDuringRelease instead, and no contract.
  if (release.switchedAt) {
    await requireServing(release.idle, deps, `scaling ${release.live} down before the contract`);
    await scaleUnlessServing(release.live, deps, `scale ${release.live} down before the contract`, () =>
      scaleOldDown(release.live, deps, settings.scaling),
    );
    return state;
  }
  await scaleUnlessServing(
    release.idle,
    deps,
    `scale ${release.idle} (idle) down before the previous release's contract`,
    () => scaleOldDown(release.idle, deps, settings.scaling),
  );
  return {
    ...state,
    release: {
      ...release,
      idleBefore: { ...release.idleBefore, count: 0, ...(settings.scaling ? { capacity: 'auto' } : {}) },
    },
  };
}

/** State "Record contract": the previous release's contract ran; no rollback may cross it any more. */
export async function recordPreviousContract(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'migrations' | 'now'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const pending = release.pendingContract;
  if (!pending) {
    throw new Error('internal: Record contract runs only after a pending contract');
  }
  await migrationPorts(deps).record.write({
    contracted: { image: pending.image, release: pending.release, at: deps.now().toISOString() },
  });
  return state;
}

/**
 * What the record says once a release is live: its contract ran (old color scaled down), or waits for the next
 * release's start (old color kept warm, so it can still take traffic back).
 */
export function afterRelease(
  before: MigrationState,
  release: { image: string; execution: string; taskDefinition?: string },
  contractRan: boolean,
  now: Date,
): MigrationState {
  if (contractRan) {
    return { contracted: { image: release.image, release: release.execution, at: now.toISOString() } };
  }
  return {
    ...(before.contracted ? { contracted: before.contracted } : {}),
    contractPending: {
      image: release.image,
      release: release.execution,
      taskDefinition: release.taskDefinition ?? '',
      since: now.toISOString(),
    },
  };
}
