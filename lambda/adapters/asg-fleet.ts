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
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { BluegreenError } from '../shared/errors';
import type { Fleet, FleetStatus } from '../shared/ports';
import type { Color } from '../shared/release-record';

export interface AsgFleetProps {
  readonly groups: Readonly<Record<Color, string>>;
  readonly launchTemplates: Readonly<Record<Color, string>>;
}

/** Scaling that must not act while a release runs: alarm-driven policies, scheduled actions, AZ rebalancing. */
export const HELD_PROCESSES = ['AlarmNotification', 'ScheduledActions', 'AZRebalance'];

/** Lines of the user data a release rewrites (lib/constructs/color-environment.ts writes them). */
const IMAGE_LINE = /^BLUEGREEN_IMAGE=.*$/m;
const VERSION_LINE = /^BLUEGREEN_VERSION=.*$/m;

/**
 * One EC2 Auto Scaling group per color. A revision is a launch template version (`<template id>:<version>`):
 * a release creates a new version whose user data runs the new image, then brings the group to the live
 * color's capacity on it: a scale-out from zero, or an instance refresh when the group is warm.
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
    const [groups, refreshes] = await Promise.all([
      this.autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
      this.autoscaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }),
      ),
    ]);
    const group = groups.AutoScalingGroups?.[0];
    if (!group) {
      throw new BluegreenError('FleetMissing', `Auto Scaling group ${name} not found.`);
    }
    const template =
      group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    const current = `${template?.LaunchTemplateId ?? this.props.launchTemplates[color]}:${template?.Version ?? '?'}`;
    const version = (revision ?? current).split(':')[1];
    const instances = group.Instances ?? [];
    const onVersion = instances.filter((i) => i.LaunchTemplate?.Version === version);
    const running = onVersion.filter(
      (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
    ).length;
    const others = instances.filter(
      (i) => i.LaunchTemplate?.Version !== version && i.LifecycleState !== 'Terminated',
    );
    const desired = group.DesiredCapacity ?? 0;
    const refresh = refreshes.InstanceRefreshes?.[0];
    const refreshFailed =
      refresh &&
      ['Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'].includes(refresh.Status ?? '');
    const refreshing =
      refresh &&
      ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'].includes(refresh.Status ?? '');
    const failures = revision ? await this.failuresSince(name, revision) : { count: 0 };
    const status: FleetStatus = {
      revision: current,
      desired,
      running,
      rollout:
        refreshFailed && revision
          ? 'FAILED'
          : refreshing || running < desired || others.length > 0
            ? 'IN_PROGRESS'
            : 'COMPLETED',
      failedTasks: failures.count,
      reason: refreshFailed
        ? (refresh.StatusReason ?? `instance refresh ${refresh.Status}`)
        : failures.reason,
    };
    if (revision && current !== revision) {
      return {
        ...status,
        rollout: 'FAILED',
        reason: `the group ${name} runs launch template version ${current.split(':')[1]}, not ${version} (changed by someone else?)`,
      };
    }
    return status;
  }

  async deploy(color: Color, image: string, version: string, count: number): Promise<string> {
    const templateId = this.props.launchTemplates[color];
    const latest = await this.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['$Latest'] }),
    );
    const source = latest.LaunchTemplateVersions?.[0];
    const userData = source?.LaunchTemplateData?.UserData;
    if (!source?.VersionNumber || !userData) {
      throw new BluegreenError(
        'FleetMissing',
        `Launch template ${templateId} has no latest version with user data.`,
      );
    }
    const script = Buffer.from(userData, 'base64').toString('utf8');
    if (!IMAGE_LINE.test(script) || !VERSION_LINE.test(script)) {
      throw new BluegreenError(
        'FleetMissing',
        `The user data of launch template ${templateId} has no BLUEGREEN_IMAGE / BLUEGREEN_VERSION line to set: ` +
          'was it changed outside bluegreen?',
      );
    }
    const next = script
      .replace(IMAGE_LINE, `BLUEGREEN_IMAGE=${shellQuote(image)}`)
      .replace(VERSION_LINE, `BLUEGREEN_VERSION=${shellQuote(version)}`);
    const created = await this.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        SourceVersion: String(source.VersionNumber),
        VersionDescription: `bluegreen release ${version}`.slice(0, 255),
        LaunchTemplateData: { UserData: Buffer.from(next, 'utf8').toString('base64') },
      }),
    );
    const number = created.LaunchTemplateVersion?.VersionNumber;
    if (!number) {
      throw new BluegreenError('FleetMissing', 'CreateLaunchTemplateVersion returned no version number.');
    }
    const revision = `${templateId}:${number}`;
    await this.moveTo(color, revision, count);
    return revision;
  }

  async restore(color: Color, count: number, revision?: string): Promise<void> {
    if (!revision) {
      await this.autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: this.props.groups[color],
          DesiredCapacity: count,
        }),
      );
      return;
    }
    await this.moveTo(color, revision, count);
  }

  async retire(revision: string): Promise<void> {
    const [templateId, version] = revision.split(':');
    await this.ec2.send(
      new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
    );
  }

  async holdCapacity(hold: boolean): Promise<void> {
    for (const name of Object.values(this.props.groups)) {
      const input = { AutoScalingGroupName: name, ScalingProcesses: HELD_PROCESSES };
      await this.autoscaling.send(
        hold ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input),
      );
    }
  }

  /**
   * Points the group at `revision` with `count` instances. Instances on another version are replaced by an
   * instance refresh that keeps the healthy capacity at 100% (new instances first); a group at 0 just scales out.
   */
  private async moveTo(color: Color, revision: string, count: number): Promise<void> {
    const name = this.props.groups[color];
    const [templateId, version] = revision.split(':');
    const before = await this.autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    const warm = (before.AutoScalingGroups?.[0]?.Instances ?? []).some(
      (i) => i.LaunchTemplate?.Version !== version && i.LifecycleState !== 'Terminated',
    );
    try {
      await this.autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }));
    } catch (e) {
      if ((e as Error).name !== 'ActiveInstanceRefreshNotFoundFault') {
        throw e;
      }
    }
    await this.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
        DesiredCapacity: count,
      }),
    );
    if (warm && count > 0) {
      await this.autoscaling.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: name,
          Strategy: 'Rolling',
          DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: version } },
          Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: true },
        }),
      );
    }
  }

  /** Failed launches, and instances replaced for failing ELB health checks, since the revision was created. */
  private async failuresSince(name: string, revision: string): Promise<{ count: number; reason?: string }> {
    const [templateId, version] = revision.split(':');
    const [created, activities] = await Promise.all([
      this.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: [version] }),
      ),
      this.autoscaling.send(
        new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 50 }),
      ),
    ]);
    const since = created.LaunchTemplateVersions?.[0]?.CreateTime?.getTime() ?? 0;
    const failed = (activities.Activities ?? []).filter(
      (a) =>
        (a.StartTime?.getTime() ?? 0) >= since &&
        (a.StatusCode === 'Failed' ||
          /ELB system health check failure|health check failure/i.test(a.Cause ?? '')),
    );
    const last = failed[0];
    return {
      count: failed.length,
      reason: last ? (last.StatusMessage ?? last.Cause ?? last.Description) : undefined,
    };
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}
