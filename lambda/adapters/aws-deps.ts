/**
 * Wires the workflow's ports to AWS for the Lambda handlers: one SDK client per service per container (each
 * call bounded in time: request timeouts and retries with exponential backoff and jitter, adaptive to
 * throttling; see sdk-budget.ts), settings from the environment (step-environment.ts).
 *
 * Each port's adapter and SDK client are loaded on the port's first use, so a step's cold start only pays for
 * the AWS services it calls (the Switch step loads ELB and SSM, not ECS, DynamoDB, SNS, ...).
 */
import { BluegreenError } from '../shared/errors';
import type { TrafficMetrics, WorkflowDeps } from '../shared/ports';
import type { HookName, WorkflowSettings } from '../shared/release';
import { recordParameterNames, type Color } from '../shared/release-record';
import { stepHandler, type InvocationContext, type StepCore, type StepHandler } from '../shared/step-handler';
import { ALB_METRICS_PERIOD_SECONDS, ALB_METRICS_SETTLE_SECONDS } from './alb-metrics-timing';
import { lazy } from './lazy';
import {
  CONNECTION_TIMEOUT_MS,
  MAX_ATTEMPTS,
  REQUEST_TIMEOUT_MS,
  SOCKET_TIMEOUT_MS,
  STEP_TIMEOUT_SECONDS,
} from './sdk-budget';
import { decodeSmokeChecks, SETTINGS_VARIABLE, SMOKE_CHECKS_VARIABLE } from './step-environment';

/** The AWS resources of one app, as the stack passes them to every step. */
export interface AwsSettings {
  /** Each color's compute: an ECS service, or an EC2 Auto Scaling group. */
  readonly fleet: FleetSettings;
  readonly targetGroups: Readonly<Record<Color, string>>;
  readonly productionListenerArn: string;
  /** The ALB (its metrics per target group feed the comparative analysis); without it, no `metrics` port. */
  readonly loadBalancerArn?: string;
  readonly testRuleArn: string;
  readonly testTokenSecretArn: string;
  readonly alarmNames: Readonly<Record<Color, readonly string[]>>;
  readonly lockTable: string;
  readonly topicArn: string;
  /**
   * True when the stack configures `notifications.slack`: the topic's messages are then AWS Chatbot custom
   * notifications (notifier.ts). Absent otherwise: the messages are the outcome JSON.
   */
  readonly chatNotifications?: boolean;
  readonly validationHookArn?: string;
  /** The lifecycle hooks' functions (`release.hooks`): in the hook step's settings only. */
  readonly lifecycleHooks?: Readonly<Partial<Record<HookName, string>>>;
  /** Database migrations (when configured): the record's parameter, and the asg platform's task family. */
  readonly migrations?: { readonly parameterName: string; readonly family?: string };
}

export type FleetSettings =
  | {
      readonly platform: 'ecs';
      readonly cluster: string;
      readonly services: Readonly<Record<Color, string>>;
      readonly families: Readonly<Record<Color, string>>;
      readonly containerName: string;
    }
  | {
      readonly platform: 'asg';
      readonly groups: Readonly<Record<Color, string>>;
      readonly launchTemplates: Readonly<Record<Color, string>>;
    };

export interface StepSettings {
  readonly workflow: WorkflowSettings;
  readonly aws: AwsSettings;
}

/**
 * Every SDK client's settings: each attempt of a call is bounded in time (a hung connection or a silent endpoint
 * ends in a TimeoutError, which is retried), and a call makes at most MAX_ATTEMPTS attempts, with backoff adaptive
 * to throttling. One call takes SDK_CALL_WORST_MS at most (the arithmetic is in sdk-budget.ts).
 */
export const clientConfig = {
  maxAttempts: MAX_ATTEMPTS,
  retryMode: 'adaptive' as const,
  // Options for the SDK's own Node HTTP handler (the client creates it from them: nothing of it is bundled, and
  // the Lambda runtime's SDK uses its own).
  requestHandler: {
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Without it a request past requestTimeout is only logged, and goes on.
    throwOnRequestTimeout: true,
    socketTimeout: SOCKET_TIMEOUT_MS,
  },
};

/**
 * The validation and lifecycle hooks' client: a synchronous Invoke answers when the hook function returns, so no request or
 * idle timeout of its own; the hook's deadline (lambda-hook.ts) bounds the call instead.
 */
const hookClientConfig = {
  maxAttempts: MAX_ATTEMPTS,
  retryMode: 'adaptive' as const,
  requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS },
};

let cached: { settings: StepSettings; deps: WorkflowDeps } | undefined;
/** The invocation running now (a Lambda container runs one at a time): how long it has left. */
let invocation: InvocationContext | undefined;

/**
 * The settings of this step (see step-environment.ts): BLUEGREEN_SETTINGS, with the smoke checks from
 * BLUEGREEN_SMOKE_CHECKS where the stack put them (the Validate step). Elsewhere, reading the smoke checks is a
 * named error rather than an empty list.
 */
export function stepSettings(env: NodeJS.ProcessEnv = process.env): StepSettings {
  const raw = env[SETTINGS_VARIABLE];
  if (!raw) {
    throw new BluegreenError('ConfigurationMissing', `${SETTINGS_VARIABLE} is not set on this function.`);
  }
  const settings = JSON.parse(raw) as StepSettings;
  const checks = env[SMOKE_CHECKS_VARIABLE];
  if (checks) {
    return { ...settings, workflow: { ...settings.workflow, smokeChecks: decodeSmokeChecks(checks) } };
  }
  if (settings.workflow.smokeChecks === undefined) {
    Object.defineProperty(settings.workflow, 'smokeChecks', {
      get: () => {
        throw new BluegreenError(
          'ConfigurationMissing',
          `${SMOKE_CHECKS_VARIABLE} is not set on this function: the stack gives the smoke checks to the Validate step only.`,
        );
      },
    });
  }
  return settings;
}

/** Settings and AWS-backed ports, built once per Lambda container. */
export function aws(): { settings: StepSettings; deps: WorkflowDeps } {
  if (cached) {
    return cached;
  }
  const settings = stepSettings();
  const a = settings.aws;
  const app = settings.workflow.appName;
  let token: Promise<string> | undefined;
  // Each loader imports an adapter module of this bundle; that module requires its SDK client when it first runs.
  const deps: WorkflowDeps = {
    record: lazy(async () =>
      (await import('./ssm-release-record')).SsmReleaseRecordStore.create(
        clientConfig,
        recordParameterNames(app),
        { scaling: settings.workflow.scaling !== undefined },
      ),
    ),
    router: lazy(async () =>
      (await import('./alb-traffic-router')).AlbTrafficRouter.create(clientConfig, {
        productionListenerArn: a.productionListenerArn,
        targetGroupArns: a.targetGroups,
        testRuleArn: a.testRuleArn,
      }),
    ),
    fleet: lazy(async () => fleetFor(a.fleet, settings.workflow.scaling !== undefined)),
    probe: lazy(async () => new (await import('./http-probe')).HttpProbe()),
    alarms: lazy(async () =>
      (await import('./cloudwatch-alarms')).CloudWatchAlarms.create(clientConfig, a.alarmNames),
    ),
    lock: lazy(async () =>
      (await import('./dynamodb-lock')).DynamoDbReleaseLock.create(clientConfig, a.lockTable, app),
    ),
    notifier: lazy(async () =>
      (await import('./notifier')).AwsNotifier.create(
        clientConfig,
        a.topicArn,
        a.chatNotifications ? 'chatbot' : 'outcome',
      ),
    ),
    testToken: (options) =>
      // Cached for the container's life; `fresh` (after a 403: the secret was rotated) reads it again.
      (token =
        (options?.fresh ? undefined : token) ??
        import('./secret-token')
          .then((m) => m.readSecret(clientConfig, a.testTokenSecretArn))
          .catch((e: unknown) => {
            token = undefined; // a failed read is not cached: the next validation asks again
            throw e;
          })),
    hook: a.validationHookArn
      ? lazy(async () =>
          (await import('./lambda-hook')).LambdaValidationHook.create(
            hookClientConfig,
            a.validationHookArn!,
            // Outside Lambda (no context), the step's timeout from now.
            () => invocation?.getRemainingTimeInMillis() ?? STEP_TIMEOUT_SECONDS * 1000,
          ),
        )
      : undefined,
    lifecycleHooks: a.lifecycleHooks
      ? lazy(async () =>
          (await import('./lifecycle-hook')).LambdaLifecycleHooks.create(
            hookClientConfig,
            a.lifecycleHooks!,
            () => invocation?.getRemainingTimeInMillis() ?? STEP_TIMEOUT_SECONDS * 1000,
          ),
        )
      : undefined,
    metrics: a.loadBalancerArn ? metricsFor(a.loadBalancerArn, a.targetGroups) : undefined,
    migrations: a.migrations ? migrationsFor(a.migrations, a.fleet) : undefined,
    now: () => new Date(),
  };
  cached = { settings, deps };
  return cached;
}

/**
 * The fleet adapter of the app's platform (each module loads its SDK client on first use); `scaling`: whether the
 * stack configures auto scaling (the workflow's settings have `scaling` then).
 */
async function fleetFor(fleet: FleetSettings, scaling: boolean): Promise<WorkflowDeps['fleet']> {
  if (fleet.platform === 'asg') {
    return (await import('./asg-fleet')).AsgFleet.create(clientConfig, { ...fleet, scaling });
  }
  return (await import('./ecs-fleet')).EcsFleet.create(clientConfig, { ...fleet, scaling });
}

/**
 * The ALB's per-target-group metrics (CloudWatch). Not `lazy()` alone: the port has plain properties
 * (periodSeconds, settleSeconds) the core reads before any call, and a lazy proxy only has methods.
 */
function metricsFor(loadBalancerArn: string, targetGroupArns: AwsSettings['targetGroups']): TrafficMetrics {
  const adapter = lazy(async () =>
    (await import('./cloudwatch-metrics')).CloudWatchTrafficMetrics.create(clientConfig, {
      loadBalancerArn,
      targetGroupArns,
      settleSeconds: ALB_METRICS_SETTLE_SECONDS,
    }),
  );
  return {
    periodSeconds: ALB_METRICS_PERIOD_SECONDS,
    settleSeconds: ALB_METRICS_SETTLE_SECONDS,
    window: (color, start, end, percentile) => adapter.window(color, start, end, percentile),
  };
}

/** A step's Lambda handler, wired to AWS (see shared/step-handler.ts). */
export function awsStep(step: string, run: StepCore): StepHandler {
  return stepHandler(step, run, (context) => {
    invocation = context;
    const { deps, settings } = aws();
    return { deps, settings: settings.workflow };
  });
}

/** The migration record (SSM) and the task definitions migrations run with (per platform). */
function migrationsFor(
  m: NonNullable<AwsSettings['migrations']>,
  fleet: FleetSettings,
): NonNullable<WorkflowDeps['migrations']> {
  return {
    record: lazy(async () =>
      (await import('./ssm-migration-record')).SsmMigrationRecord.create(clientConfig, m.parameterName),
    ),
    tasks:
      fleet.platform === 'ecs' || !m.family
        ? // On ECS the migrations run with the release's own revision.
          { taskDefinition: (release) => Promise.resolve(release.revision) }
        : lazy(async () =>
            (await import('./ecs-fleet')).EcsMigrationTasks.create(clientConfig, m.family!, 'app'),
          ),
  };
}
