/**
 * `bluegreen status`: what is live and what could take over. The record and the production listener side by
 * side (drift when they disagree), each color's image, tasks, target health and traffic share, its auto scaling
 * (count, bounds, scale-in suspended; the record's bounds when they differ), whether the idle color is warm
 * enough to take traffic back, and the release in flight with the state it is in.
 */
import type { LockHolder } from '../../lambda/adapters/dynamodb-lock';
import { notWarmBecause } from '../../lambda/shared/decisions';
import type { FleetStatus, MigrationState, Promotion, TargetHealth } from '../../lambda/shared/ports';
import type { Shift } from '../../lambda/shared/release';
import { rollbackBlockedByContract } from '../../lambda/workflow/migrations';
import { phaseOf } from '../../lambda/shared/state-names';
import { COLORS, otherColor, recordParameterNames, type Color } from '../../lambda/shared/release-record';
import {
  boundsFor,
  describeCapacity,
  formatRecordedCapacity,
  type Capacity,
  type ColorBounds,
  type ScalingSettings,
} from '../../lambda/shared/scaling';
import { describeTraffic, findDrift, routedTraffic, type TrafficWeights } from '../../lambda/shared/traffic';
import { releaseInFlight, type InFlight } from '../execution';
import { colorName, duration, paint, table, type CliIo } from '../io';
import { shiftOf, shiftStatusLines } from '../shift';
import type { AwsSession } from '../target';

export interface ColorStatus {
  readonly role: 'live' | 'idle';
  readonly image: string;
  readonly trafficPercent: number;
  readonly tasks: { readonly desired: number; readonly running: number; readonly rollout: string };
  readonly targets: TargetHealth;
  /** The color's auto scaling now (when the stack configures it): count, bounds, scale-in suspended. */
  readonly scaling?: Capacity;
  /**
   * The record's capacity value for the color (`auto` or `<min>,<max>`) and the bounds it means, when they are not
   * the fleet's: a `cdk deploy` would set these (a release in flight between two writes, or a change by hand).
   */
  readonly recordedScaling?: { readonly value: string; readonly bounds: ColorBounds };
}

export interface StatusReport {
  readonly app: string;
  /** The live color per the record. */
  readonly liveColor: Color;
  /** What each color runs: ECS tasks, or EC2 instances. */
  readonly unit: 'task' | 'instance';
  /** Where the production listener sends users, in words. */
  readonly traffic: string;
  readonly weights: TrafficWeights;
  readonly drift?: string;
  readonly colors: Readonly<Record<Color, ColorStatus>>;
  /** Can the idle color take traffic back now (bluegreen rollback)? */
  readonly rollback: { readonly to: Color; readonly possible: boolean; readonly reason?: string };
  /**
   * Whether the color a rollback moves all traffic to could take it now, whatever a release in flight is doing:
   * the idle color; during a gradual shift the old color (live per the record until the final switch).
   */
  readonly idleWarm: { readonly color: Color; readonly warm: boolean; readonly reason?: string };
  readonly inFlight?: {
    readonly release: string;
    readonly executionArn: string;
    readonly state?: string;
    readonly since?: string;
    readonly image?: string;
    readonly waitingForApproval: boolean;
  };
  readonly lock?: LockHolder;
  /**
   * A release in a gradual shift (canary, linear), as its current state carries it: the strategy, the steps, the
   * current step (0-based) and its weights, the verdicts so far; traffic moves `from` the old color `to` the new.
   */
  readonly shift?: Shift & {
    readonly from: Color;
    readonly to: Color;
    /** `bluegreen promote`'s request on the lock, not yet acted on by the release. */
    readonly promotionRequested?: Promotion;
  };
  /** Database migrations (when the app runs them): what the migration record says. */
  readonly migrations?: MigrationState & {
    /** Why no rollback may go back from the live color: its release's contract ran. */
    readonly blocksRollback?: string;
  };
}

/**
 * Reads everything at once (one round of parallel calls). `stopped`: a release the caller has just stopped, to be
 * taken as the release in flight (its last state says where it left traffic). `scaling`: read each color's auto
 * scaling too (`bluegreen status`; a rollback does not depend on it).
 */
export async function readStatus(
  session: AwsSession,
  stopped?: InFlight,
  options: { readonly scaling?: boolean } = {},
): Promise<{ report: StatusReport; flight?: InFlight }> {
  const ports = await session.ports();
  const target = await session.target();
  const [record, weights, fleets, capacities, health, lock, migrations] = await Promise.all([
    ports.record.read(),
    ports.router.productionWeights(),
    Promise.all(COLORS.map((c) => ports.fleet.describe(c))),
    Promise.all(COLORS.map((c) => (options.scaling ? ports.fleet.capacity(c) : Promise.resolve(undefined)))),
    Promise.all(COLORS.map((c) => ports.router.targetHealth(c))),
    ports.lock.holder(),
    ports.migrationRecord?.read(),
  ]);
  const flight = stopped ?? (await releaseInFlight(session.sfn, target.stateMachineArn, lock?.owner));
  const fleet: Record<Color, FleetStatus> = { blue: fleets[0], green: fleets[1] };
  const targets: Record<Color, TargetHealth> = { blue: health[0], green: health[1] };
  const live = record.liveColor;
  // A gradual shift leaves the record on the old color until the final switch, with the split it set.
  const shiftingRelease =
    flight?.release?.live === live && shiftOf(flight.state, flight.release) ? flight.release : undefined;
  const shifting = shiftingRelease?.shift;
  const promotionRequested =
    flight && shifting && !shifting.promotedBy && !stopped
      ? await ports.lock.promotion(flight.name)
      : undefined;
  // The color a rollback moves all traffic to: the idle one, or during a shift the old color.
  const idle = shifting ? live : otherColor(live);
  const total = weights.blue + weights.green;
  // A split is no drift only while a release in a shift holds it (as its state or the record says): without
  // one, no rollback could tell which color to return to.
  const heldSplit =
    shifting !== undefined &&
    routedTraffic(weights).kind === 'split' &&
    [shifting.weights, record.weights].some((w) => w !== undefined && sameSplit(w, weights));
  const drift = heldSplit ? undefined : findDrift(live, weights, recordParameterNames(target.app).liveColor);
  // During a release, whether a rollback is possible depends on where it stands (bluegreen rollback's rules).
  const phase = flight ? phaseOf(flight.state ?? '') : undefined;
  const unit = target.fleet.platform === 'asg' ? 'instance' : 'task';
  const notWarm = notWarmBecause({
    color: idle,
    fleet: fleet[idle],
    health: targets[idle],
    // During a shift the old color must still have what it ran for all of production when the release started.
    liveTasks: shiftingRelease ? shiftingRelease.liveCount : fleet[live].running,
    unit,
  });
  // A rollback goes back from the live color's release; during a shift from the release in flight, whose
  // contract has not run (the old color's own contract, from the release before, does not block it).
  const contract =
    migrations &&
    rollbackBlockedByContract(migrations, shiftingRelease ? shiftingRelease.image : record.images[live]);
  const reason =
    contract ??
    (flight && phase === 'before-switch'
      ? `release ${flight.name} has not switched traffic yet: there is nothing to roll back`
      : flight && phase !== 'after-switch'
        ? `release ${flight.name} is in "${flight.state ?? '?'}" right now; ask again in a few seconds`
        : notWarm);
  const colors = Object.fromEntries(
    COLORS.map((c) => [
      c,
      {
        role: c === live ? 'live' : 'idle',
        // During a shift the new color already runs the release's image (the record names it at the switch).
        image: shiftingRelease && c !== live ? shiftingRelease.image : record.images[c],
        trafficPercent: total === 0 ? 0 : Math.round((weights[c] * 100) / total),
        tasks: { desired: fleet[c].desired, running: fleet[c].running, rollout: fleet[c].rollout },
        targets: targets[c],
        ...scalingOf(
          capacities[COLORS.indexOf(c)],
          record.capacity?.[c] ?? 'auto',
          c === live,
          target.scaling,
        ),
      } satisfies ColorStatus,
    ]),
  ) as Record<Color, ColorStatus>;
  const report: StatusReport = {
    app: target.app,
    liveColor: live,
    unit,
    traffic: describeTraffic(routedTraffic(weights)),
    weights,
    ...(drift ? { drift: drift.message } : {}),
    colors,
    rollback: { to: idle, possible: reason === undefined, ...(reason ? { reason } : {}) },
    idleWarm: { color: idle, warm: notWarm === undefined, ...(notWarm ? { reason: notWarm } : {}) },
    ...(flight
      ? {
          inFlight: {
            release: flight.name,
            executionArn: flight.executionArn,
            state: flight.state,
            since: flight.enteredAt?.toISOString(),
            image: flight.release?.image ?? lock?.image,
            waitingForApproval: flight.approval !== undefined,
          },
        }
      : {}),
    ...(lock ? { lock } : {}),
    ...(shifting
      ? {
          shift: {
            ...shifting,
            from: live,
            to: otherColor(live),
            ...(promotionRequested ? { promotionRequested } : {}),
          },
        }
      : {}),
    ...(migrations
      ? { migrations: { ...migrations, ...(contract ? { blocksRollback: contract } : {}) } }
      : {}),
  };
  return { report, flight };
}

/** A color's scaling for the report, with the record's bounds when they are not the fleet's. */
function scalingOf(
  capacity: Capacity | undefined,
  recorded: Parameters<typeof formatRecordedCapacity>[0],
  live: boolean,
  settings: ScalingSettings | undefined,
): Pick<ColorStatus, 'scaling' | 'recordedScaling'> {
  if (!capacity || !settings) {
    return {};
  }
  const bounds = boundsFor(recorded, live, settings);
  const same =
    bounds.min === capacity.min &&
    bounds.max === capacity.max &&
    bounds.scaleInSuspended === capacity.scaleInSuspended;
  return {
    scaling: capacity,
    ...(same ? {} : { recordedScaling: { value: formatRecordedCapacity(recorded), bounds } }),
  };
}

/** The same split, whatever the scale (the workflow sets weights out of 1000, the template 100). */
function sameSplit(a: TrafficWeights, b: TrafficWeights): boolean {
  return a.blue * b.green === a.green * b.blue && a.blue + a.green > 0 && b.blue + b.green > 0;
}

export async function status(session: AwsSession, io: CliIo, json: boolean): Promise<void> {
  const { report } = await readStatus(session, undefined, { scaling: true });
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const line of renderStatus(report, io)) {
    io.out(line);
  }
}

/**
 * Each color's scaling, one line each, when the stack configures it: "blue   4 tasks (bounds 2..20)", and what
 * the record says when it differs ("record: auto = 0..0").
 */
function scalingLines(r: StatusReport, io: CliIo): string[] {
  const lines: string[] = [];
  for (const c of COLORS) {
    const { scaling, recordedScaling } = r.colors[c];
    if (!scaling) {
      continue;
    }
    const count = describeCapacity(scaling).replace(/^\d+/, (n) => `${n} ${r.unit}${n === '1' ? '' : 's'}`);
    const recorded = recordedScaling
      ? paint(
          io,
          'yellow',
          `; record: ${recordedScaling.value === 'auto' ? 'auto = ' : ''}${recordedScaling.bounds.min}..` +
            `${recordedScaling.bounds.max}${recordedScaling.bounds.scaleInSuspended ? ', scale-in suspended' : ''}`,
        )
      : '';
    lines.push(`  ${colorName(io, c)}${' '.repeat(6 - c.length)}${count}${recorded}`);
  }
  return lines.length > 0 ? ['', 'scaling:', ...lines] : [];
}

export function renderStatus(r: StatusReport, io: CliIo): string[] {
  const lines: string[] = [];
  const headline = r.drift
    ? paint(io, 'red', `DRIFT: the record says ${r.liveColor} is live, but the listener sends ${r.traffic}`)
    : r.shift
      ? `${paint(io, 'bold', r.app)}: ${colorName(io, r.liveColor)} is live, shifting to ${colorName(io, r.shift.to)} (${r.traffic})`
      : `${paint(io, 'bold', r.app)}: ${colorName(io, r.liveColor)} is live (${r.traffic})`;
  lines.push(headline);
  if (r.drift) {
    lines.push(`  ${r.drift}`);
  }
  lines.push('');
  const header = [
    'color',
    'role',
    'traffic',
    r.unit === 'instance' ? 'instances' : 'tasks',
    'healthy targets',
    'image',
  ];
  const rows = COLORS.map((c) => {
    const s = r.colors[c];
    const targets = `${s.targets.healthy}/${s.targets.healthy + s.targets.notHealthy}`;
    const tasks = `${s.tasks.running}/${s.tasks.desired}${s.tasks.rollout === 'COMPLETED' ? '' : ` ${s.tasks.rollout}`}`;
    return [c, s.role, `${s.trafficPercent}%`, tasks, targets, s.image];
  });
  const plain = [header, ...rows];
  const styled = [
    header.map((h) => paint(io, 'dim', h)),
    ...rows.map((row) => [colorName(io, row[0]), ...row.slice(1)]),
  ];
  lines.push(...table(styled, plain).map((l) => `  ${l}`));
  for (const c of COLORS) {
    for (const problem of r.colors[c].targets.problems) {
      lines.push(`  ${c}: ${problem}`);
    }
  }
  lines.push(...scalingLines(r, io));
  lines.push('');
  lines.push(
    r.rollback.possible
      ? `rollback: ${paint(io, 'green', 'possible')}: ${r.rollback.to} is warm and can take all traffic back (bluegreen rollback)`
      : `rollback: ${paint(io, 'yellow', 'not possible')}: ${r.rollback.reason ?? ''}`,
  );
  if (r.migrations) {
    const m = r.migrations;
    lines.push(
      `migrations: ${m.contracted ? `contract of ${m.contracted.image} ran at ${m.contracted.at}` : 'no contract ran yet'}` +
        (m.contractPending
          ? `; the contract of ${m.contractPending.image} waits for the next release (a rollback stays possible until then)`
          : ''),
    );
  }
  if (r.inFlight) {
    const f = r.inFlight;
    const since = f.since ? ` for ${duration(io.now().getTime() - Date.parse(f.since))}` : '';
    lines.push(
      `release in flight: ${f.release} (${f.image ?? 'image unknown'}), in "${f.state ?? '?'}"${since}` +
        (f.waitingForApproval
          ? paint(io, 'yellow', ': waiting for approval (bluegreen approve | reject)')
          : ''),
    );
    if (r.shift) {
      lines.push(...shiftStatusLines({ live: r.shift.from, idle: r.shift.to }, r.shift).map((l) => `  ${l}`));
      const asked = r.shift.promotionRequested;
      if (asked) {
        lines.push(
          `  promotion requested by ${asked.by} at ${asked.at}: the next analysis skips the remaining steps to 100%`,
        );
      }
    }
  } else if (r.lock) {
    lines.push(
      `release in flight: none running; the lock is held by ${r.lock.owner} (${r.lock.image}) until ${r.lock.expiresAt}`,
    );
  } else {
    lines.push('release in flight: none');
  }
  return lines;
}
