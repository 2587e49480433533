import type * as ApplicationAutoScaling from '@aws-sdk/client-application-auto-scaling';
import type {
  ApplicationAutoScalingClient,
  ApplicationAutoScalingClientConfig,
} from '@aws-sdk/client-application-auto-scaling';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  ECSClient,
  type ECSClientConfig,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { BluegreenError } from '../shared/errors';
import type { Fleet, FleetStatus, MigrationTasks, Restored } from '../shared/ports';
import type { Capacity, ColorBounds } from '../shared/scaling';
import { COLORS, type Color } from '../shared/release-record';
import { scalingNotConfigured } from './scaling-errors';

export interface EcsFleetProps {
  readonly cluster: string;
  readonly services: Readonly<Record<Color, string>>;
  /** Task definition family per color; new revisions are based on the family's latest (CDK's settings). */
  readonly families: Readonly<Record<Color, string>>;
  /** The container that runs the application image. */
  readonly containerName: string;
  /**
   * Whether the stack gives each service an Application Auto Scaling scalable target (config `scaling`); without
   * it the fleet has no bounds to report or set.
   */
  readonly scaling?: boolean;
}

type ApplicationAutoScalingSdk = typeof ApplicationAutoScaling;

/** The scalable dimension of an ECS service's task count. */
const DESIRED_COUNT = 'ecs:service:DesiredCount';

/** One ECS Fargate service per color. */
export class EcsFleet implements Fleet {
  static create(
    config: ECSClientConfig & ApplicationAutoScalingClientConfig,
    props: EcsFleetProps,
  ): EcsFleet {
    return new EcsFleet(new ECSClient(config), props, config);
  }

  /** The Application Auto Scaling SDK and client, loaded on the first scaling call (steps that scale nothing skip it). */
  private autoscaling?: Promise<{ sdk: ApplicationAutoScalingSdk; client: ApplicationAutoScalingClient }>;

  /** @param scalingConfig the Application Auto Scaling client's configuration. */
  constructor(
    private readonly ecs: ECSClient,
    private readonly props: EcsFleetProps,
    private readonly scalingConfig: ApplicationAutoScalingClientConfig = {},
  ) {}

  async describe(color: Color, revision?: string): Promise<FleetStatus> {
    const out = await this.ecs.send(
      new DescribeServicesCommand({ cluster: this.props.cluster, services: [this.props.services[color]] }),
    );
    const service = out.services?.[0];
    if (!service) {
      throw new BluegreenError(
        'FleetMissing',
        `ECS service ${this.props.services[color]} not found in cluster ${this.props.cluster}: ${out.failures?.[0]?.reason ?? 'no reason'}.`,
      );
    }
    const deployments = service.deployments ?? [];
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    const event = service.events?.[0]?.message;
    const status: FleetStatus = {
      revision: primary?.taskDefinition ?? service.taskDefinition ?? '',
      desired: service.desiredCount ?? 0,
      running: primary?.runningCount ?? service.runningCount ?? 0,
      rollout: primary?.rolloutState ?? 'COMPLETED',
      failedTasks: primary?.failedTasks ?? 0,
      reason: primary?.rolloutStateReason ?? event,
    };
    if (revision && status.revision !== revision) {
      // ECS moved off our revision: its deployment circuit breaker rolled the service back.
      const ours = deployments.find((d) => d.taskDefinition === revision);
      const why = ours?.rolloutStateReason ?? event ?? 'no reason given';
      return {
        ...status,
        rollout: 'FAILED',
        failedTasks: ours?.failedTasks ?? status.failedTasks,
        reason: `ECS rolled the service back from ${revision.split('/').pop()} to ${status.revision.split('/').pop()} (${why})`,
      };
    }
    return status;
  }

  /**
   * UpdateService onto `revision` with `count` tasks; with `bounds`, then the scalable target (after: a minimum
   * raised first would start tasks of the revision the service ran before).
   */
  async deploy(color: Color, revision: string, count: number, bounds?: ColorBounds): Promise<void> {
    if (bounds && !this.props.scaling) {
      throw scalingNotConfigured(`set ${color}'s bounds to ${bounds.min}..${bounds.max}`);
    }
    await this.ecs.send(
      new UpdateServiceCommand({
        cluster: this.props.cluster,
        service: this.props.services[color],
        taskDefinition: revision,
        desiredCount: count,
      }),
    );
    if (bounds) {
      await this.setCapacity(color, bounds);
    }
  }

  async register(color: Color, image: string, version: string): Promise<string> {
    return registerWithImage(this.ecs, this.props.families[color], this.props.containerName, image, version);
  }

  /**
   * Back onto `revision` with `count` tasks. ECS refuses to roll a service onto a deregistered (INACTIVE)
   * revision, which is what CloudFormation makes of the revision an idle color ran when a `cdk deploy` changes the
   * task definition (CPU, memory, environment): then the same image and version are registered again with the
   * family's current settings and the color goes onto that copy; if even that fails, the color is scaled to 0.
   */
  async restore(color: Color, count: number, revision?: string, bounds?: ColorBounds): Promise<Restored> {
    if (bounds && !this.props.scaling) {
      throw scalingNotConfigured(`set ${color}'s bounds to ${bounds.min}..${bounds.max}`);
    }
    // The scalable target and the service together: both end within the bounds, whichever lands first.
    const [, restored] = await Promise.all([
      bounds ? this.setCapacity(color, bounds) : undefined,
      this.restoreService(color, count, revision),
    ]);
    return restored;
  }

  private async restoreService(color: Color, count: number, revision?: string): Promise<Restored> {
    if (!revision) {
      await this.update(color, count);
      return { count };
    }
    const described = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: revision }));
    const td = described.taskDefinition;
    if (td?.status !== 'INACTIVE') {
      await this.update(color, count, revision);
      return { revision, count };
    }
    if ((await this.referencing([color])).has(revision)) {
      // The service still references it: only the count changes. ECS scales a service on an INACTIVE
      // (deregistered) revision it references ("can still scale up or down by modifying the service's desired
      // count"), and rejects an UpdateService that names it.
      await this.update(color, count);
      return { revision, count };
    }
    const app = td.containerDefinitions?.find((c) => c.name === this.props.containerName);
    const image = app?.image ?? '?';
    const version = app?.environment?.find((e) => e.name === 'BLUEGREEN_VERSION')?.value;
    const gone = `revision ${revisionNumber(revision)} of ${color} (${image}) was deregistered (a cdk deploy changed the task definition?)`;
    let copy: string;
    try {
      if (!app?.image) {
        throw new BluegreenError('FleetMissing', `it has no container "${this.props.containerName}"`);
      }
      copy = await registerWithImage(
        this.ecs,
        this.props.families[color],
        this.props.containerName,
        app.image,
        version,
      );
    } catch (e) {
      await this.update(color, 0);
      return {
        count: 0,
        note: `${gone} and registering it again failed (${(e as Error).name}: ${(e as Error).message}): ${color} was scaled to 0 instead`,
      };
    }
    await this.update(color, count, copy);
    return {
      revision: copy,
      count,
      note: `${gone}: it was registered again with the current settings as revision ${revisionNumber(copy)}`,
    };
  }

  /** The task definitions the services of `colors` reference now. */
  private async referencing(colors: readonly Color[]): Promise<Set<string>> {
    const out = await this.ecs.send(
      new DescribeServicesCommand({
        cluster: this.props.cluster,
        services: colors.map((c) => this.props.services[c]),
      }),
    );
    return new Set((out.services ?? []).flatMap((s) => (s.taskDefinition ? [s.taskDefinition] : [])));
  }

  private async update(color: Color, count: number, revision?: string): Promise<void> {
    await this.ecs.send(
      new UpdateServiceCommand({
        cluster: this.props.cluster,
        service: this.props.services[color],
        desiredCount: count,
        ...(revision ? { taskDefinition: revision } : {}),
      }),
    );
  }

  /**
   * Nothing to hold on ECS: ECS itself keeps a rolling deployment at 100% healthy (minHealthyPercent), and with
   * auto scaling a release holds each color through its scalable target (setCapacity: a floor and
   * DynamicScalingInSuspended), which leaves scale-out acting.
   */
  holdCapacity(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * The color's scalable target (DescribeScalableTargets) and its service's desired count (DescribeServices), read
   * together. Undefined when the stack configures no scaling.
   */
  async capacity(color: Color): Promise<Capacity | undefined> {
    if (!this.props.scaling) {
      return undefined;
    }
    const resourceId = this.resourceId(color);
    const { sdk, client } = await this.scaling();
    const [targets, service] = await Promise.all([
      client.send(
        new sdk.DescribeScalableTargetsCommand({
          ServiceNamespace: 'ecs',
          ScalableDimension: DESIRED_COUNT,
          ResourceIds: [resourceId],
        }),
      ),
      this.describe(color),
    ]);
    const target = targets.ScalableTargets?.find((t) => t.ResourceId === resourceId);
    if (!target || target.MinCapacity === undefined || target.MaxCapacity === undefined) {
      throw new BluegreenError(
        'FleetMissing',
        `No Application Auto Scaling target for ${resourceId} (${DESIRED_COUNT}), though the stack configures ` +
          'scaling: was it deregistered by hand? Deploy the stack again (npx cdk deploy --all).',
      );
    }
    return {
      desired: service.desired,
      min: target.MinCapacity,
      max: target.MaxCapacity,
      scaleInSuspended: target.SuspendedState?.DynamicScalingInSuspended === true,
    };
  }

  /**
   * RegisterScalableTarget on the color's scalable target: its min and max, and scale-in suspended or not (scale-out
   * and scheduled scaling are never suspended). One call, idempotent.
   *
   * What AWS does with the count (Application Auto Scaling API reference, RegisterScalableTarget, as in the
   * @aws-sdk/client-application-auto-scaling model): updating an existing scalable target, it "retrieves the
   * current capacity of the resource. If it's below the minimum capacity or above the maximum capacity, [it]
   * adjusts the capacity of the scalable target to place it within these bounds": the service's desiredCount
   * goes up to a raised min, or down to a lowered max, at once, on the revision the service runs.
   */
  async setCapacity(color: Color, bounds: ColorBounds): Promise<void> {
    if (!this.props.scaling) {
      throw scalingNotConfigured(`set ${color}'s bounds to ${bounds.min}..${bounds.max}`);
    }
    const { sdk, client } = await this.scaling();
    await client.send(
      new sdk.RegisterScalableTargetCommand({
        ServiceNamespace: 'ecs',
        ScalableDimension: DESIRED_COUNT,
        ResourceId: this.resourceId(color),
        MinCapacity: bounds.min,
        MaxCapacity: bounds.max,
        SuspendedState: {
          DynamicScalingInSuspended: bounds.scaleInSuspended,
          DynamicScalingOutSuspended: false,
          ScheduledScalingSuspended: false,
        },
      }),
    );
  }

  /** `service/<cluster name>/<service name>`: the cluster and the service may be given by name or by ARN. */
  private resourceId(color: Color): string {
    const name = (nameOrArn: string) => nameOrArn.split('/').pop() ?? nameOrArn;
    return `service/${name(this.props.cluster)}/${name(this.props.services[color])}`;
  }

  private scaling(): Promise<{ sdk: ApplicationAutoScalingSdk; client: ApplicationAutoScalingClient }> {
    this.autoscaling ??= import('@aws-sdk/client-application-auto-scaling').then((sdk) => ({
      sdk,
      client: new sdk.ApplicationAutoScalingClient(this.scalingConfig),
    }));
    return this.autoscaling;
  }

  async retire(revision: string): Promise<void> {
    await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: revision }));
  }

  /**
   * DescribeTaskDefinition: ECS runs no new task of an INACTIVE (deregistered) revision, and a deleted one is
   * gone (ClientException "Unable to describe task definition").
   */
  async revisionRunnable(revision: string): Promise<{ runnable: boolean; reason?: string; image?: string }> {
    const name = revision.split('/').pop() ?? revision;
    try {
      const out = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: revision }));
      const status = out.taskDefinition?.status;
      const image = out.taskDefinition?.containerDefinitions?.find(
        (c) => c.name === this.props.containerName,
      )?.image;
      // An INACTIVE revision still runs where a service references it: its desired count scales it (ECS docs,
      // DeregisterTaskDefinition).
      if (status === 'ACTIVE' || (status === 'INACTIVE' && (await this.referencing(COLORS)).has(revision))) {
        return { runnable: true, ...(image ? { image } : {}) };
      }
      return {
        runnable: false,
        reason: `task definition ${name} is ${status ?? 'not found'}${status === 'INACTIVE' ? ' (deregistered)' : ''}`,
      };
    } catch (e) {
      const error = e as Error;
      if (
        error.name === 'ClientException' &&
        /unable to describe|not found|does not exist/i.test(error.message)
      ) {
        return { runnable: false, reason: `task definition ${name} no longer exists (${error.message})` };
      }
      throw e;
    }
  }
}

/**
 * Registers a revision of `family` whose `containerName` runs `image` (reporting `version`; without one, as the
 * image's own). Based on the family's latest revision: it carries the infrastructure's current settings (CPU,
 * memory, environment, secrets) as CDK last deployed them.
 *
 * Idempotent: when the family's latest revision already runs this image and version (a retried Register or
 * Deploy step, after the revision was registered and the step failed later), that revision is returned, so a
 * release has one revision and retiring it leaves none of the image ACTIVE.
 */
async function registerWithImage(
  ecs: ECSClient,
  family: string,
  containerName: string,
  image: string,
  version: string | undefined,
): Promise<string> {
  const base = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }),
  );
  const td = base.taskDefinition;
  const app = td?.containerDefinitions?.find((c) => c.name === containerName);
  if (!td?.containerDefinitions || !app) {
    throw new BluegreenError(
      'FleetMissing',
      `Task definition family ${family} has no container "${containerName}".`,
    );
  }
  const versionOf = (c: ContainerDefinition) =>
    c.environment?.find((e) => e.name === 'BLUEGREEN_VERSION')?.value;
  if (td.taskDefinitionArn && app.image === image && versionOf(app) === version) {
    return td.taskDefinitionArn;
  }
  const input: RegisterTaskDefinitionCommandInput = {
    family,
    taskRoleArn: td.taskRoleArn,
    executionRoleArn: td.executionRoleArn,
    networkMode: td.networkMode,
    requiresCompatibilities: td.requiresCompatibilities,
    cpu: td.cpu,
    memory: td.memory,
    runtimePlatform: td.runtimePlatform,
    volumes: td.volumes,
    ephemeralStorage: td.ephemeralStorage,
    pidMode: td.pidMode,
    ipcMode: td.ipcMode,
    proxyConfiguration: td.proxyConfiguration,
    tags: base.tags?.length ? base.tags : undefined,
    containerDefinitions: td.containerDefinitions.map((c) =>
      c.name === containerName
        ? {
            ...c,
            image,
            environment: [
              ...(c.environment ?? []).filter((e) => e.name !== 'BLUEGREEN_VERSION'),
              ...(version === undefined ? [] : [{ name: 'BLUEGREEN_VERSION', value: version }]),
            ],
          }
        : c,
    ),
  };
  const registered = await ecs.send(new RegisterTaskDefinitionCommand(input));
  const revision = registered.taskDefinition?.taskDefinitionArn;
  if (!revision) {
    throw new BluegreenError('FleetMissing', 'RegisterTaskDefinition returned no ARN.');
  }
  return revision;
}

/**
 * Platform "asg": the migrations run as one-off Fargate tasks of the app's migrations family, which gets a
 * revision with each release's image.
 */
export class EcsMigrationTasks implements MigrationTasks {
  static create(config: ECSClientConfig, family: string, containerName: string): EcsMigrationTasks {
    return new EcsMigrationTasks(new ECSClient(config), family, containerName);
  }

  constructor(
    private readonly ecs: ECSClient,
    private readonly family: string,
    private readonly containerName: string,
  ) {}

  taskDefinition(release: { image: string; version: string; revision: string }): Promise<string> {
    return registerWithImage(this.ecs, this.family, this.containerName, release.image, release.version);
  }
}

/** "7" for ".../task-definition/shop-green:7". */
function revisionNumber(revision: string): string {
  return revision.split(':').pop() ?? revision;
}
