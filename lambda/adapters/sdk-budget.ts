/**
 * How long one AWS SDK call of a step can take at worst, and why: every SDK client of the steps gets a request
 * handler with timeouts and a bounded number of attempts (aws-deps.ts), so a hung connection or a slow endpoint
 * ends in a named error (TimeoutError, ThrottlingException, ...) with the step's name, not in Sandbox.Timedout.
 * test/step-sdk-budget.test.ts adds up these worst cases along every step's calls and checks that they fit the
 * step's Lambda timeout (STEP_TIMEOUT_SECONDS, which the stack gives the functions).
 *
 * Each attempt (the SDK's Node HTTP handler, created by each client from these options: in Lambda the runtime's
 * own, since the bundles leave @aws-sdk/* out; older handlers throw on a request timeout without being asked):
 * - connectionTimeout: the TCP/TLS connection must be up within 3 s;
 * - requestTimeout (with throwOnRequestTimeout: without it a breach is only logged): from sending the request
 *   to the response's status and headers, at most 5 s, connection included;
 * - socketTimeout: the socket may not stay idle for 5 s, while waiting for the headers or reading the body.
 * An attempt therefore ends within REQUEST_TIMEOUT_MS + SOCKET_TIMEOUT_MS (headers at the last moment, then a
 * body that stops). A body that keeps trickling a byte every few seconds is not bounded; AWS answers are a few
 * kilobytes sent at once.
 *
 * Retries (the SDK's adaptive retry mode; @smithy/core/retry, StandardRetryStrategy and DefaultRateLimiter):
 * - at most MAX_ATTEMPTS attempts; only throttling and transient errors (timeouts, resets, 5xx) are retried;
 * - before retry i (1-based) it waits random × min(base × 2^(i−1), 20 s), base 1 s after a throttling error,
 *   50 ms otherwise; a Retry-After (or x-amz-retry-after) answer can lengthen that by up to 5 s;
 * - adaptive mode: once throttled, each attempt first waits for a token of the client's rate limiter, which
 *   refills at no less than 0.5 token per second: at most 2 s.
 *
 * These are the numbers of the SDK installed here (@smithy/core 3.41; test/sdk-call-bound.test.ts measures them).
 * The Lambda runtime's own SDK runs the retry loop (the bundles leave @aws-sdk/* out): older retry strategies
 * use bases of 100 ms and 500 ms (throttling) but wait as long as a Retry-After asks, up to the 20 s cap: an
 * endpoint that answers "retry after 20 s" would make each retry wait 20 s there, where this bound counts 6 s
 * and 7 s (a call of up to 76 s instead of 49 s).
 */

/** The TCP/TLS connection of an attempt. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/** Request sent → response headers, per attempt (connection included). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** Idle socket (no byte in or out), per attempt. */
export const SOCKET_TIMEOUT_MS = 5_000;
/** Attempts per call: the first and two retries (the state machine retries the whole step on top of this). */
export const MAX_ATTEMPTS = 3;

/** The retry strategy's cap on one computed backoff (MAXIMUM_RETRY_DELAY). */
const MAXIMUM_RETRY_DELAY_MS = 20_000;
/** Its base after a throttling error (Retry.throttlingDelay; 50 ms for other errors). */
const THROTTLING_BASE_MS = 1_000;
/** How much a Retry-After hint can add to the computed backoff. */
const RETRY_AFTER_ALLOWANCE_MS = 5_000;
/** The adaptive rate limiter's longest wait for a send token (1 token at its minimum fill rate, 0.5/s). */
const RATE_LIMITER_WAIT_MS = 2_000;

/** The longest backoff before retry `i` (1-based). */
export function maxBackoffMs(i: number): number {
  return Math.min(THROTTLING_BASE_MS * 2 ** (i - 1), MAXIMUM_RETRY_DELAY_MS) + RETRY_AFTER_ALLOWANCE_MS;
}

/** The longest one attempt takes, its wait for a rate-limiter token included. */
export const ATTEMPT_WORST_MS = REQUEST_TIMEOUT_MS + SOCKET_TIMEOUT_MS + RATE_LIMITER_WAIT_MS;

/**
 * The longest one SDK call (`client.send`) takes, retries included:
 * 3 × (5 + 5 + 2) s + (1 + 5) s + (2 + 5) s = 49 s.
 */
export const SDK_CALL_WORST_MS =
  MAX_ATTEMPTS * ATTEMPT_WORST_MS +
  Array.from({ length: MAX_ATTEMPTS - 1 }, (_, k) => maxBackoffMs(k + 1)).reduce((a, b) => a + b, 0);

/**
 * The most SDK calls one port call makes one after another (calls made together, with Promise.all, count once),
 * per port method of the AWS adapters; the fleet's per platform. When an adapter method gains a call, raise its
 * count here: test/step-sdk-budget.test.ts adds these up along every step's port calls.
 */
export const SDK_CALLS_PER_PORT_CALL: Readonly<Record<'ecs' | 'asg', Readonly<Record<string, number>>>> = {
  ecs: {
    // DescribeServices | UpdateService | DescribeTaskDefinition, RegisterTaskDefinition
    'fleet.describe': 1,
    // UpdateService, then (with bounds) RegisterScalableTarget
    'fleet.deploy': 2,
    'fleet.register': 2,
    // DescribeTaskDefinition; when INACTIVE: DescribeServices and, when not the service's, DescribeTaskDefinition
    // (family), RegisterTaskDefinition; UpdateService
    'fleet.restore': 5,
    'fleet.retire': 1,
    // DescribeTaskDefinition; when INACTIVE, DescribeServices (bluegreen rollback after the old color went cold)
    'fleet.revisionRunnable': 2,
    'fleet.holdCapacity': 0,
    // DescribeScalableTargets with DescribeServices | RegisterScalableTarget (ecs-fleet.ts)
    'fleet.capacity': 1,
    'fleet.setCapacity': 1,
    // the release's own revision: no call
    'migrations.tasks.taskDefinition': 0,
  },
  asg: {
    // DescribeAutoScalingGroups with DescribeInstanceRefreshes; DescribeLaunchTemplateVersions; DescribeScalingActivities
    'fleet.describe': 3,
    // moveTo: DescribeAutoScalingGroups, DescribeLaunchTemplateVersions (twice when a version is gone),
    // CancelInstanceRefresh, DescribeInstanceRefreshes, UpdateAutoScalingGroup, StartInstanceRefresh
    'fleet.deploy': 7,
    'fleet.restore': 7,
    // DescribeLaunchTemplateVersions, CreateLaunchTemplateVersion
    'fleet.register': 2,
    'fleet.retire': 1,
    // DescribeLaunchTemplateVersions
    'fleet.revisionRunnable': 1,
    // Suspend/ResumeProcesses on each of the two groups
    'fleet.holdCapacity': 2,
    // DescribeAutoScalingGroups with DescribePolicies (asg-scaling.ts)
    'fleet.capacity': 1,
    // UpdateAutoScalingGroup with DescribePolicies, then the PutScalingPolicy of each target-tracking policy whose
    // DisableScaleIn changes, all together (asg-scaling.ts); deploy and restore run the same beside their moves
    'fleet.setCapacity': 2,
    // DescribeTaskDefinition, RegisterTaskDefinition (the migrations family)
    'migrations.tasks.taskDefinition': 2,
  },
};

/** The same for the ports whose adapter does not depend on the platform. */
export const SDK_CALLS_PER_SHARED_PORT_CALL: Readonly<Record<string, number>> = {
  'record.read': 1,
  // PutParameter for the image and the weights (at the same time), then the live color: two calls' time
  'record.write': 2,
  // PutParameter (the color's capacity parameter)
  'record.writeCapacity': 1,
  'router.productionWeights': 1,
  'router.setProductionWeights': 1,
  'router.setTestWeights': 1,
  'router.targetHealth': 1,
  'alarms.firing': 1,
  'alarms.named': 1,
  // GetMetricData, up to 3 pages (cloudwatch-metrics.ts MAX_PAGES)
  'metrics.window': 3,
  // GetItem
  'lock.promotion': 1,
  // PutItem; when refused, GetItem (who holds it)
  'lock.acquire': 2,
  'lock.release': 1,
  'lock.holder': 1,
  // SNS Publish with EventBridge PutEvents
  'notifier.publish': 1,
  // Secrets Manager GetSecretValue (cached per container; counted on every call)
  testToken: 1,
  'migrations.record.read': 1,
  'migrations.record.write': 1,
  // Step Functions GetExecutionHistory (the Stopped step, before its core)
  'history.lastStateEntered': 1,
};

/**
 * Every step function's timeout: Lambda's maximum, 15 minutes. The longest a step's SDK calls can take adds up
 * to 14 minutes at worst (the asg Rollback: 17 calls one after another × SDK_CALL_WORST_MS), and the Validate
 * step runs up to 40 smoke checks (20, again after a 403) of 10 s at most before the hook. A step that runs
 * that long is one whose every call hit every limit; a healthy step takes seconds.
 */
export const STEP_TIMEOUT_SECONDS = 900;
/**
 * What the Validate step keeps for itself after the validation hook: the hook gets what its Lambda has left
 * (context.getRemainingTimeInMillis()) minus this, so a hook that does not answer ends in ValidationFailed, with
 * a cause, before the Lambda times out. The lifecycle hook step (lifecycle-hook.ts) makes no other call: a call of
 * a lifecycle hook gets its whole Lambda but this (or less, up to the hook's deadline), then is an ERROR answer.
 */
export const HOOK_RESERVE_MS = 5_000;
/** The time the hook has at least, whatever the smoke checks and the SDK calls before it took (README). */
export const HOOK_MINIMUM_SECONDS = 300;
