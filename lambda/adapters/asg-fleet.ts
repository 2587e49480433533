import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  StartInstanceRefreshCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClientConfig,
  type AutoScalingGroup,
  type InstanceRefresh,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import { BluegreenError, FLEET_BUSY } from '../shared/errors';
import type { Fleet, FleetStatus, Restored } from '../shared/ports';
import type { Capacity, ColorBounds } from '../shared/scaling';
import type { Color } from '../shared/release-record';
import { imageIn, withRelease } from '../shared/user-data';
import { capacityOf, setGroupCapacity, setScaleIn, targetTrackingPolicies } from './asg-scaling';
import { scalingNotConfigured } from './scaling-errors';

export interface AsgFleetProps {
  readonly groups: Readonly<Record<Color, string>>;
  readonly launchTemplates: Readonly<Record<Color, string>>;
  /** Whether the stack gives each group target-tracking policies and bounds from the record (config `scaling`). */
  readonly scaling?: boolean;
}

/**
 * Scaling that must not act while a release runs: alarm-driven policies, scheduled actions, AZ rebalancing
 * (what holdCapacity(false) resumes, whatever the stack configures).
 */
export const HELD_PROCESSES = ['AlarmNotification', 'ScheduledActions', 'AZRebalance'];
/**
 * What a release suspends when the stack configures auto scaling: not AlarmNotification, so target tracking still
 * scales out during a release (the held color's MinSize and its policies' DisableScaleIn stop scale-in).
 */
export const HELD_PROCESSES_WITH_SCALING = ['ScheduledActions', 'AZRebalance'];

const ACTIVE_REFRESH = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];
const ENDED_BADLY = ['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

/**
 * One EC2 Auto Scaling group per color. A revision is a launch template version (`<template id>:<version>`):
 * a release creates a new version whose user data runs the new image, then brings the group to the live
 * color's capacity on it: a scale-out from zero, or an instance refresh when the group is warm.
 *
 * Instances are compared by the image their version runs, not by version number: `cdk deploy` makes new
 * versions of its own (a new AMI, the recorded image) and moves the group to them without replacing instances.
 */
export class AsgFleet implements Fleet {
  static create(config: AutoScalingClientConfig, props: AsgFleetProps): AsgFleet {
    return new AsgFleet(new AutoScalingClient(config), new EC2Client(config), props);
  }

  constructor(
    private readonly autoscaling: AutoScalingClient,
    private readonly ec2: EC2Client,
    private readonly props: AsgFleetProps,
  ) {}

  async describe(color: Color, revision?: string): Promise<FleetStatus> {
    const name = this.props.groups[color];
    const templateId = this.props.launchTemplates[color];
    const [group, refreshes] = await Promise.all([
      this.group(name),
      this.autoscaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 10 }),
      ),
    ]);
    const current = `${templateId}:${group.LaunchTemplate?.Version ?? '?'}`;
    const target = (revision ?? current).split(':')[1];
    const instances = (group.Instances ?? []).filter((i) => i.LifecycleState !== 'Terminated');
    // EC2 fails the whole call when one version was deleted (a group at 0 keeps naming it): then instances are
    // told apart by version number, and the status can still be read.
    const versions = await this.versions(templateId, [
      target,
      current.split(':')[1],
      ...instances.map((i) => i.LaunchTemplate?.Version ?? ''),
    ]).catch((e: unknown) => {
      if (notFound(e)) {
        return new Map<string, LaunchTemplateVersion>();
      }
      throw e;
    });
    const image = (v: string | undefined) => imageKey(versions, v);
    const wanted = image(target);
    const matching = instances.filter((i) => image(i.LaunchTemplate?.Version) === wanted);
    const running = matching.filter(
      (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
    ).length;
    const others = instances.length - matching.length;
    const desired = group.DesiredCapacity ?? 0;
    // Only a refresh towards this revision, started after it was made, speaks for it.
    const since = versions.get(target)?.CreateTime?.getTime() ?? 0;
    const refresh = (refreshes.InstanceRefreshes ?? []).find(
      (r) =>
        r.DesiredConfiguration?.LaunchTemplate?.Version === target && (r.StartTime?.getTime() ?? 0) >= since,
    );
    const anyActive = (refreshes.InstanceRefreshes ?? []).some((r) =>
      ACTIVE_REFRESH.includes(r.Status ?? ''),
    );
    const failures = revision ? await this.failuresSince(name, since) : { count: 0 };
    const status: FleetStatus = {
      revision: current,
      desired,
      running,
      rollout:
        revision && endedBadly(refresh)
          ? 'FAILED'
          : anyActive || running < desired || others > 0
            ? 'IN_PROGRESS'
            : 'COMPLETED',
      failedTasks: failures.count,
      reason: endedBadly(refresh)
        ? (refresh!.StatusReason ?? `instance refresh ${refresh!.Status}`)
        : failures.reason,
    };
    if (revision && image(current.split(':')[1]) !== wanted) {
      return {
        ...status,
        rollout: 'FAILED',
        reason:
          `the group ${name} was moved to launch template version ${current.split(':')[1]}, which runs ` +
          `${image(current.split(':')[1])}, not ${wanted} (a cdk deploy or an ` +
          'operator changed it during the release?)',
      };
    }
    return status;
  }

  async deploy(color: Color, revision: string, count: number, bounds?: ColorBounds): Promise<void> {
    this.requireScaling(color, bounds);
    if (!(await this.moveTo(color, revision, count, bounds))) {
      throw new BluegreenError('FleetMissing', `Launch template version ${revision} does not exist.`);
    }
  }

  /** A launch template version whose user data runs `image` (the latest one when it already does: a retry). */
  async register(color: Color, image: string, version: string): Promise<string> {
    const templateId = this.props.launchTemplates[color];
    const latest = (
      await this.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['$Latest'] }),
      )
    ).LaunchTemplateVersions?.[0];
    const userData = latest?.LaunchTemplateData?.UserData;
    if (!latest?.VersionNumber || !userData) {
      throw new BluegreenError(
        'FleetMissing',
        `Launch template ${templateId} has no latest version with user data.`,
      );
    }
    const script = Buffer.from(userData, 'base64').toString('utf8');
    const next = withRelease(script, image, version);
    if (next === undefined) {
      throw new BluegreenError(
        'FleetMissing',
        `The user data of launch template ${templateId} has no BLUEGREEN_IMAGE / BLUEGREEN_VERSION line to set: ` +
          'was it changed outside bluegreen?',
      );
    }
    let number = latest.VersionNumber;
    // A retried deploy finds the version it made already: no second one.
    if (next !== script) {
      const created = await this.ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: templateId,
          SourceVersion: String(latest.VersionNumber),
          VersionDescription: `bluegreen release ${version}`.slice(0, 255),
          LaunchTemplateData: { UserData: Buffer.from(next, 'utf8').toString('base64') },
        }),
      );
      if (!created.LaunchTemplateVersion?.VersionNumber) {
        throw new BluegreenError('FleetMissing', 'CreateLaunchTemplateVersion returned no version number.');
      }
      number = created.LaunchTemplateVersion.VersionNumber;
    }
    return `${templateId}:${number}`;
  }

  /**
   * Back onto `revision` with `count` instances. A launch template version that no longer exists (deleted by hand,
   * or its template replaced) cannot be run again: the group is then scaled to 0 instead, and says so.
   */
  async restore(color: Color, count: number, revision?: string, bounds?: ColorBounds): Promise<Restored> {
    this.requireScaling(color, bounds);
    if (!revision) {
      await Promise.all([
        this.autoscaling.send(
          new UpdateAutoScalingGroupCommand({
            AutoScalingGroupName: this.props.groups[color],
            DesiredCapacity: count,
            ...boundsOf(bounds),
          }),
        ),
        this.scaleIn(color, bounds),
      ]);
      return { count };
    }
    const moved = await this.moveTo(color, revision, count, bounds);
    if (!moved) {
      return {
        count: 0,
        note:
          `launch template version ${revision} of ${color} no longer exists (deleted, or the template replaced?): ` +
          `${color} was scaled to 0 instead`,
      };
    }
    return { revision, count };
  }

  /**
   * The color's group (DescribeAutoScalingGroups) and its target-tracking policies (DescribePolicies), read
   * together. Undefined when the stack configures no scaling.
   */
  async capacity(color: Color): Promise<Capacity | undefined> {
    if (!this.props.scaling) {
      return undefined;
    }
    const name = this.props.groups[color];
    const [group, policies] = await Promise.all([
      this.group(name),
      targetTrackingPolicies(this.autoscaling, name),
    ]);
    return capacityOf(group, policies);
  }

  /** Bounds asked of a stack without scaling: a named error before anything changes. */
  private requireScaling(color: Color, bounds: ColorBounds | undefined): void {
    if (bounds && !this.props.scaling) {
      throw scalingNotConfigured(`set ${color}'s bounds to ${bounds.min}..${bounds.max}`);
    }
  }

  /** With `bounds`, the group's policies' DisableScaleIn as they say (nothing without). */
  private async scaleIn(color: Color, bounds: ColorBounds | undefined): Promise<void> {
    if (!bounds) {
      return;
    }
    this.requireScaling(color, bounds);
    await setScaleIn(this.autoscaling, this.props.groups[color], bounds.scaleInSuspended);
  }

  /** The group's MinSize and MaxSize, and its policies' DisableScaleIn (asg-scaling.ts). */
  async setCapacity(color: Color, bounds: ColorBounds): Promise<void> {
    if (!this.props.scaling) {
      throw scalingNotConfigured(`set ${color}'s bounds to ${bounds.min}..${bounds.max}`);
    }
    await setGroupCapacity(this.autoscaling, this.props.groups[color], bounds);
  }

  async retire(revision: string): Promise<void> {
    const [templateId, version] = revision.split(':');
    const out = await this.ec2.send(
      new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
    );
    const failed = out.UnsuccessfullyDeletedLaunchTemplateVersions?.[0];
    if (failed) {
      throw new BluegreenError(
        'RetireFailed',
        `Launch template ${templateId} version ${version} was not deleted: ${failed.ResponseError?.Code ?? '?'} ` +
          `${failed.ResponseError?.Message ?? ''}`.trim(),
      );
    }
  }

  /** DescribeLaunchTemplateVersions: a deleted version (or a template replaced since) cannot launch again. */
  async revisionRunnable(revision: string): Promise<{ runnable: boolean; reason?: string; image?: string }> {
    const [templateId, version] = revision.split(':');
    const gone = (why: string) => ({
      runnable: false,
      reason: `launch template version ${revision} ${why}`,
    });
    if (!templateId || !version || !/^\d+$/.test(version)) {
      return gone('is not a version of a launch template');
    }
    try {
      const found = await this.versions(templateId, [version]);
      const image = imageOf(found.get(version));
      return found.has(version) ? { runnable: true, ...(image ? { image } : {}) } : gone('no longer exists');
    } catch (e) {
      if (notFound(e)) {
        return gone(`no longer exists (${(e as Error).name})`);
      }
      throw e;
    }
  }

  /**
   * Suspends (true) or resumes (false) the held processes of both groups: with auto scaling, AlarmNotification
   * stays on while held (target tracking must still scale out); resuming resumes all of HELD_PROCESSES.
   */
  async holdCapacity(hold: boolean): Promise<void> {
    const processes = hold && this.props.scaling ? HELD_PROCESSES_WITH_SCALING : HELD_PROCESSES;
    for (const name of Object.values(this.props.groups)) {
      const input = { AutoScalingGroupName: name, ScalingProcesses: processes };
      await this.autoscaling.send(
        hold ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input),
      );
    }
  }

  /**
   * Points the group at `revision` with `count` instances. Instances running another image are replaced by an
   * instance refresh that keeps the healthy capacity at 100% (new instances first); a group at 0 just scales out.
   * A refresh already running is cancelled first (see stopRefresh). False, with the group scaled to 0, when the
   * version does not exist.
   */
  private async moveTo(
    color: Color,
    revision: string,
    count: number,
    bounds?: ColorBounds,
  ): Promise<boolean> {
    // The policies' scale-in suspension beside the move (its own two calls); the bounds in the move's update.
    const [moved] = await Promise.all([
      this.move(color, revision, count, bounds),
      this.scaleIn(color, bounds),
    ]);
    return moved;
  }

  private async move(color: Color, revision: string, count: number, bounds?: ColorBounds): Promise<boolean> {
    const name = this.props.groups[color];
    const [templateId, version] = revision.split(':');
    const group = await this.group(name);
    const instances = (group.Instances ?? []).filter((i) => i.LifecycleState !== 'Terminated');
    let gone = false;
    const versions = await this.versions(templateId, [
      version,
      ...instances.map((i) => i.LaunchTemplate?.Version ?? ''),
    ]).catch(async (e: unknown) => {
      // EC2 fails the whole call when one version is gone: is it the one asked for?
      if (!notFound(e)) {
        throw e;
      }
      return this.versions(templateId, [version]).catch((again: unknown) => {
        if (notFound(again)) {
          gone = true;
          return new Map<string, LaunchTemplateVersion>();
        }
        throw again;
      });
    });
    await this.stopRefresh(name);
    if (gone) {
      await this.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          DesiredCapacity: 0,
          ...(bounds ? { MinSize: 0, MaxSize: bounds.max } : {}),
        }),
      );
      return false;
    }
    const image = (v: string | undefined) => imageKey(versions, v);
    const wanted = image(version);
    const stale = instances.some((i) => image(i.LaunchTemplate?.Version) !== wanted);
    await this.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
        DesiredCapacity: count,
        ...boundsOf(bounds),
      }),
    );
    if (stale && count > 0) {
      await this.autoscaling.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: name,
          Strategy: 'Rolling',
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: version } },
          Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
        }),
      );
    }
    return true;
  }

  /**
   * Cancels the group's active instance refresh, if any, without waiting for its in-flight launches and
   * terminations (WaitForTransitioningInstances: false), then looks once: a refresh still stopping is not waited
   * for inside the step (its Lambda has a timeout), it fails with FLEET_BUSY and the state machine retries the
   * step after an interval.
   */
  private async stopRefresh(name: string): Promise<void> {
    try {
      await this.autoscaling.send(
        new CancelInstanceRefreshCommand({
          AutoScalingGroupName: name,
          WaitForTransitioningInstances: false,
        }),
      );
    } catch (e) {
      if ((e as Error).name === 'ActiveInstanceRefreshNotFoundFault') {
        return;
      }
      throw e;
    }
    const out = await this.autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 5 }),
    );
    const active = (out.InstanceRefreshes ?? []).find((r) => ACTIVE_REFRESH.includes(r.Status ?? ''));
    if (active) {
      throw new BluegreenError(
        FLEET_BUSY,
        `The instance refresh ${active.InstanceRefreshId ?? ''} of ${name} was cancelled and is still ` +
          `${active.Status ?? 'stopping'}; the step runs again once it has stopped.`,
      );
    }
  }

  private async group(name: string): Promise<AutoScalingGroup> {
    const out = await this.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    const group = out.AutoScalingGroups?.[0];
    if (!group) {
      throw new BluegreenError('FleetMissing', `Auto Scaling group ${name} not found.`);
    }
    return group;
  }

  /** The launch template versions asked for, by number (one call). */
  private async versions(templateId: string, numbers: string[]): Promise<Map<string, LaunchTemplateVersion>> {
    const wanted = [...new Set(numbers.filter((n) => /^\d+$/.test(n)))];
    if (wanted.length === 0) {
      return new Map();
    }
    const out = await this.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: wanted }),
    );
    return new Map((out.LaunchTemplateVersions ?? []).map((v) => [String(v.VersionNumber), v]));
  }

  /** Failed launches, and instances replaced for failing ELB health checks, since `since` (the revision's birth). */
  private async failuresSince(name: string, since: number): Promise<{ count: number; reason?: string }> {
    const activities = await this.autoscaling.send(
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 50 }),
    );
    const failed = (activities.Activities ?? []).filter(
      (a) =>
        (a.StartTime?.getTime() ?? 0) >= since &&
        (a.StatusCode === 'Failed' || /health check failure/i.test(a.Cause ?? '')),
    );
    const last = failed[0];
    return {
      count: failed.length,
      reason: last ? (last.StatusMessage ?? last.Cause ?? last.Description) : undefined,
    };
  }
}

/** What instances on version `v` run: its image, or (when unknown) the version itself. */
function imageKey(versions: Map<string, LaunchTemplateVersion>, v: string | undefined): string {
  return imageOf(versions.get(v ?? '')) ?? `version ${v ?? '?'}`;
}

/** The image a launch template version's user data runs (undefined when unknown). */
function imageOf(version: LaunchTemplateVersion | undefined): string | undefined {
  const data = version?.LaunchTemplateData?.UserData;
  return data ? imageIn(Buffer.from(data, 'base64').toString('utf8')) : undefined;
}

function endedBadly(refresh: InstanceRefresh | undefined): boolean {
  return refresh !== undefined && ENDED_BADLY.includes(refresh.Status ?? '');
}

/** EC2's "no such launch template / version" (InvalidLaunchTemplateId.VersionNotFound, ...NotFound, ...). */
function notFound(e: unknown): boolean {
  const name = (e as Error).name ?? '';
  return name.startsWith('InvalidLaunchTemplate') && name.includes('NotFound');
}

/** A group's MinSize and MaxSize for an UpdateAutoScalingGroup, when bounds are given. */
function boundsOf(bounds: ColorBounds | undefined): { MinSize?: number; MaxSize?: number } {
  return bounds ? { MinSize: bounds.min, MaxSize: bounds.max } : {};
}
