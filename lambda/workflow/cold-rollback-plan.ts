/**
 * The cold rollback's types and its plan (lambda/workflow/cold-rollback.ts runs it): what `bluegreen rollback` would
 * do for a color that went cold, decided on fresh reads, or the refusal with nothing changed (drift, the lock held,
 * the live version's contract ran, the color not cold, the last release outside the window, its revision gone).
 */
import { shortRevision } from '../shared/decisions';
import { BluegreenError } from '../shared/errors';
import type { FleetStatus, MigrationRecord, WorkflowDeps } from '../shared/ports';
import type { CheckResult, WorkflowSettings } from '../shared/release';
import { COLORS, otherColor, type Color } from '../shared/release-record';
import { findDrift } from '../shared/traffic';
import type { ValidateColor } from './cold-validate';
import { rollbackBlockedByContract } from './migrations';

export type ColdRollbackDeps = Pick<
  WorkflowDeps,
  'record' | 'router' | 'fleet' | 'lock' | 'notifier' | 'now'
> & {
  /**
   * Validates the cold color once the test listener points at it: the Validate step's checks, where they can
   * reach the test listener (the CLI invokes the stack's Validate Lambda; the rehearsal and tests run validate).
   */
  readonly validateColor: ValidateColor;
  /** The migration record, when the app runs migrations (a contract that ran blocks the rollback). */
  readonly migrationRecord?: MigrationRecord;
  readonly sleep: (ms: number) => Promise<void>;
};

export interface ColdRollbackSettings extends Pick<WorkflowSettings, 'appName' | 'scaling'> {
  /** The record's live-color parameter (named in a drift's cause). */
  readonly recordParameter: string;
  /** The last release must have ended within this many hours (config release.coldRollbackWindowHours). */
  readonly windowHours: number;
  /** How long the cold color has to become stable and healthy (default: release.deployTimeoutSeconds). */
  readonly timeoutSeconds: number;
  /** Seconds between two looks at it while waiting. */
  readonly pollSeconds: number;
  /** What runs the app, for the words (ECS tasks or EC2 instances). @default 'task' */
  readonly unit?: 'task' | 'instance';
}

/** What the operator is asked to confirm, and what the rollback checks again under the lock. */
export interface ColdPlan {
  /** The cold color, whose version goes back to production. */
  readonly to: Color;
  /** The live color now. */
  readonly from: Color;
  /** What the cold color runs (the record) and the revision its service last ran. */
  readonly image: string;
  readonly revision: string;
  /** The live color's count now: what the cold color starts. */
  readonly count: number;
  readonly fromImage: string;
}

export interface ColdRollbackRequest {
  /** The lock's owner while it runs (also the release name in the published outcome). */
  readonly owner: string;
  /** Who asked (the AWS identity), and why. */
  readonly by: string;
  readonly reason?: string;
  /** The operator's confirmation: time to restore counts from here. */
  readonly confirmedAt: Date;
  /** The plan the operator confirmed: refused if it changed since. */
  readonly plan: ColdPlan;
  /** When the release that made the live color live ended (undefined: not found: outside the window). */
  readonly liveSince?: Date;
  /** The previous release's version (what /version must say); undefined: the version check is skipped. */
  readonly version?: string;
  /** Aborted: stop (the CLI wires it to Ctrl-C): the cold color is put back, the lock freed, traffic untouched. */
  readonly signal?: AbortSignal;
}

export type ColdPhase = 'locked' | 'scale-up' | 'waiting' | 'healthy' | 'smoke' | 'switched' | 'undo';

/** A progress line: when, which phase, and the cold color's counts while it starts. */
export interface ColdProgress {
  readonly at: Date;
  readonly phase: ColdPhase;
  readonly line: string;
  readonly counts?: { readonly running: number; readonly desired: number; readonly healthy: number };
}

export interface ColdRollbackResult {
  readonly to: Color;
  readonly from: Color;
  readonly image: string;
  readonly revision: string;
  readonly count: number;
  readonly version?: string;
  readonly checks: readonly CheckResult[];
  /** From the confirmation to the switch read back; the scale-up (start → healthy), smoke checks and switch. */
  readonly timings: {
    readonly restoreMs: number;
    readonly scaleUpMs: number;
    readonly smokeMs: number;
    readonly switchMs: number;
  };
  /** The cause published with ROLLED_BACK. */
  readonly message: string;
  /** Problems after the switch that did not undo it (bounds not set, publishing failed). */
  readonly warnings: readonly string[];
}

/**
 * The lock's lease: short, renewed on every look at the cold color and before the validation and the switch, so a
 * CLI that stops (a laptop asleep, a killed process) frees it soon. It covers one validation (the Validate
 * Lambda's timeout, 5 minutes at most) plus one poll.
 */
export const COLD_LEASE_SECONDS = 360;

/**
 * What a cold rollback would do now, on fresh reads (record, listener, both colors, the lock, the migration
 * record, the cold color's revision), or the refusal (a named error, nothing changed). `owner`: the lock holder
 * that is us (under the lock).
 */
export async function planColdRollback(
  deps: Pick<ColdRollbackDeps, 'record' | 'router' | 'fleet' | 'lock' | 'migrationRecord' | 'now'>,
  settings: Pick<ColdRollbackSettings, 'recordParameter' | 'windowHours' | 'unit'>,
  context: { readonly liveSince?: Date; readonly owner?: string },
): Promise<ColdPlan> {
  const [record, weights, fleets, holder, migrations] = await Promise.all([
    deps.record.read(),
    deps.router.productionWeights(),
    Promise.all(COLORS.map((c) => deps.fleet.describe(c))),
    deps.lock.holder(),
    deps.migrationRecord?.read(),
  ]);
  const now = deps.now();
  const from = record.liveColor;
  const to = otherColor(from);
  const fleet: Record<Color, FleetStatus> = { blue: fleets[0], green: fleets[1] };
  const unit = settings.unit ?? 'task';
  const drift = findDrift(from, weights, settings.recordParameter, record.weights);
  if (drift) {
    throw refusal('Drift', `${drift.message} Nothing was changed: reconcile record and listener first.`);
  }
  if (holder && holder.owner !== context.owner && Date.parse(holder.expiresAt) > now.getTime()) {
    throw refusal(
      'ReleaseInProgress',
      `${holder.owner} holds the release lock until ${holder.expiresAt}; nothing was changed.`,
    );
  }
  const contract = migrations && rollbackBlockedByContract(migrations, record.images[from]);
  if (contract) {
    throw refusal('ContractRan', `${contract} Nothing was changed.`);
  }
  if (fleet[to].desired > 0) {
    throw refusal(
      'NotCold',
      `${to} runs ${fleet[to].running}/${fleet[to].desired} ${unit}(s): it is not cold any more. Nothing was ` +
        'changed; run bluegreen rollback again (a warm color takes traffic back at once).',
    );
  }
  const window = settings.windowHours;
  // When the live color became live: the record's own time (any release or rollback that made it live, whatever
  // its ending), else the release history's.
  const liveSince = record.liveSince ? new Date(record.liveSince) : context.liveSince;
  if (!liveSince) {
    throw refusal(
      'OutsideWindow',
      `No finished release that made ${from} live was found in the release history, so it cannot be shown to be ` +
        `within the cold rollback window (${window} h). Nothing was changed. Release the old image instead: ` +
        `bluegreen release --image ${record.images[to]}.`,
    );
  }
  const ageHours = (now.getTime() - liveSince.getTime()) / 3_600_000;
  if (ageHours > window) {
    throw refusal(
      'OutsideWindow',
      `${from} became live at ${liveSince.toISOString()} (${ageHours.toFixed(1)} h ` +
        `ago), outside the cold rollback window of ${window} h (release.coldRollbackWindowHours, or --within). ` +
        `Nothing was changed. Release the old image instead: bluegreen release --image ${record.images[to]}.`,
    );
  }
  const revision = fleet[to].revision;
  const runnable = revision
    ? await deps.fleet.revisionRunnable(revision)
    : { runnable: false, reason: `${to} names no revision` };
  if (!runnable.runnable) {
    throw refusal(
      'RevisionGone',
      `${to}'s revision ${revision ? shortRevision(revision) : '(none)'} (${record.images[to]}) can no longer run: ` +
        `${runnable.reason ?? 'no reason given'}. Nothing was changed. Release the image again instead: ` +
        `bluegreen release --image ${record.images[to]}.`,
    );
  }
  if (runnable.image && runnable.image !== record.images[to]) {
    throw refusal(
      'RevisionMismatch',
      `${to}'s revision ${shortRevision(revision)} runs ${runnable.image}, but the record says ${to} runs ` +
        `${record.images[to]}: starting it would not bring that version back. Nothing was changed. Release the ` +
        `image instead: bluegreen release --image ${record.images[to]}.`,
    );
  }
  return {
    to,
    from,
    image: record.images[to],
    revision,
    count: Math.max(fleet[from].desired, 1),
    fromImage: record.images[from],
  };
}

/** Runs the cold rollback the operator confirmed (`request.plan`). Throws a named error when refused or failed. */

export function refusal(name: string, message: string): BluegreenError {
  return new BluegreenError(name, message);
}
