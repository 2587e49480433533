/**
 * The one configuration of a bluegreen app: its schema, its defaults, and a validator that reports every
 * mistake at once (the field, what is wrong, what is allowed, what was given).
 *
 * The file is `bluegreen.config.json` at the project root; `-c config=path/to/file.json` (CDK context) or the
 * BLUEGREEN_CONFIG environment variable points the app at another one.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { hookBudget } from '../lambda/shared/hook-contract';
import { budgetProblems, FIXED_SECONDS } from '../lambda/shared/release';
import { DEFAULT_POLICY, parseStrategy, shiftBudget, type Strategy } from '../lambda/shared/strategy';
import { hookTimings, hooksSchema, LAMBDA_ARN_RULE, LAMBDA_FUNCTION_ARN } from './config-hooks';
import { scalingProblems, scalingSchema } from './config-scaling';
import { InvalidJsonError, parseJson } from './json';

export const DEFAULT_CONFIG_FILE = 'bluegreen.config.json';

/** Valid Fargate task sizes: CPU units → allowed memory in MiB. */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** The values CloudWatch Logs accepts for a retention period, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const RESERVED_PORTS = [80, 443];
/**
 * Lengths that keep every step's environment under Lambda's 4 KB with the longest of everything else (each step
 * carries the image repository and the health check path; the Validate step also every smoke check's path):
 * checked by test/environment-size.test.ts, enforced at synth by BluegreenFunction.
 */
const MAX_PATH = 64;
const MAX_REPOSITORY = 256;

/** The release timeout's range (release.maxReleaseMinutes). */
const MAX_RELEASE_MINUTES = 1440;
const MIN_DEPLOY_TIMEOUT_SECONDS = 60;
/**
 * The longest manual gate any release can have: the longest release, less the least the rest of it takes (the
 * shortest deploy timeout, no bake, no finish delay, and the other steps' fixed allowance). The budget check then
 * holds it to what the configured timings leave.
 */
const MAX_APPROVAL_MINUTES =
  MAX_RELEASE_MINUTES - Math.ceil((MIN_DEPLOY_TIMEOUT_SECONDS + FIXED_SECONDS) / 60);
/**
 * How long after a minute ends CloudWatch has ALB's metrics for it: they are published once a minute, late (the
 * default waits three minutes; raise it if analyses see fewer requests than the access logs).
 */
export const DEFAULT_SETTLE_SECONDS = 180;
/** The ALB metrics' period: shift steps last at least two of them. */
export const METRICS_PERIOD_SECONDS = 60;
const PERIOD_RULE = 'must be a multiple of 60 from 60 to 3600 seconds (ALB metrics come once a minute)';

const APP_NAME = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
// registry/path, lowercase, no tag or digest (those belong in initialTag).
const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;
const TAG_OR_DIGEST = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$/;
const CIDR_V4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const PRIVATE_ECR = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/(.+)$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** Graviton (arm64) instance families: a "g" after the generation (t4g, m7g, c7gn, r8gd, im4gn), or a1. */
const GRAVITON = /^([a-z]+\d+[a-z]*g[a-z]*|a1)\./;
/**
 * Slack ids as AWS Chatbot takes them (AWS::Chatbot::SlackChannelConfiguration): the workspace id is capital
 * letters and digits (T07EXAMPLE), the channel id letters and digits (C07EXAMPLE), neither a name nor a URL.
 */
const SLACK_WORKSPACE_ID = /^[0-9A-Z]{1,255}$/;
const SLACK_CHANNEL_ID = /^[A-Za-z0-9]{1,255}$/;
const SLACK_WORKSPACE_WHAT =
  'the Slack workspace id the AWS Chatbot console shows once the workspace is authorized, such as "T07EXAMPLE" (capital letters and digits)';
const SLACK_CHANNEL_WHAT =
  'a Slack channel id such as "C07EXAMPLE" (letters and digits, the end of the channel\'s link; not its name)';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_ENV = ['BLUEGREEN_COLOR', 'BLUEGREEN_APP', 'PORT', 'REDIS_URL', 'REDIS_AUTH_TOKEN'];

/** A whole number in [min, max]; `what` says it in words ("a TCP port from 1 to 65535"). */
const int = (min: number, max: number, what: string) =>
  z
    .int({ error: `must be ${what}` })
    .min(min, `must be ${what}`)
    .max(max, `must be ${what}`);

const schema = z
  .object({
    appName: z
      .string({ error: 'is required: 3-20 lowercase letters, digits or hyphens, starting with a letter' })
      .regex(APP_NAME, 'must be 3-20 lowercase letters, digits or hyphens, starting with a letter'),
    platform: z
      .enum(['ecs', 'asg'], {
        error: 'must be "ecs" (ECS Fargate services) or "asg" (EC2 Auto Scaling groups)',
      })
      .default('ecs'),
    instances: z
      .object({
        type: z.string().regex(INSTANCE_TYPE, 'must be an EC2 instance type such as "t4g.small"').optional(),
        volumeGiB: int(8, 1024, 'a whole number from 8 to 1024 GiB').default(16),
        maxCount: int(1, 100, 'a whole number from 1 to 100 instances').default(10),
        // An instance boots, installs Docker and pulls the image before it answers: longer than a task.
        gracePeriodSeconds: int(60, 3600, 'a whole number from 60 to 3600 seconds').default(300),
      })
      .strict()
      .prefault({}),
    aws: z
      .object({
        account: z.string().regex(ACCOUNT, 'must be a 12-digit AWS account id').optional(),
        region: z.string().regex(REGION, 'must be an AWS region such as "eu-west-1"').optional(),
      })
      .strict()
      .prefault({}),
    vpc: z
      .object({
        vpcId: z.string().regex(VPC_ID, 'must be a VPC id such as "vpc-0123456789abcdef0"').optional(),
        cidr: z.string().regex(CIDR_V4, 'must be an IPv4 CIDR block such as "10.0.0.0/16"').optional(),
        maxAzs: int(2, 6, 'a whole number from 2 to 6').optional(),
        natGateways: int(1, 6, 'a whole number from 1 to 6').optional(),
      })
      .strict()
      .prefault({}),
    image: z
      .object({
        repository: z
          .string({
            error:
              'is required: the image repository, e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop"',
          })
          .regex(
            REPOSITORY,
            'must be an image repository without tag, e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop" or "public.ecr.aws/docker/library/nginx"',
          )
          .max(MAX_REPOSITORY, `must be at most ${MAX_REPOSITORY} characters`),
        initialTag: z
          .string({
            error: 'is required: the tag (or sha256 digest) both colors run before the first release',
          })
          .regex(
            TAG_OR_DIGEST,
            'must be an image tag (letters, digits, "_", ".", "-") or a "sha256:<64 hex>" digest',
          ),
      })
      .strict(),
    container: z
      .object({
        port: int(1, 65535, 'a TCP port from 1 to 65535').default(8080),
        cpu: z
          .union(
            Object.keys(FARGATE_SIZES).map((cpu) => z.literal(Number(cpu))),
            { error: `must be one of the Fargate CPU sizes ${Object.keys(FARGATE_SIZES).join(', ')}` },
          )
          .default(256),
        memoryMiB: int(512, 122880, 'a whole number from 512 to 122880 MiB').default(512),
        desiredCount: int(1, 100, 'a whole number from 1 to 100 tasks').default(2),
        architecture: z
          .enum(['arm64', 'x86_64'], { error: 'must be "arm64" (Graviton, cheaper) or "x86_64"' })
          .default('arm64'),
        environment: z
          .record(
            z.string().regex(ENV_NAME, 'environment variable names must be letters, digits and "_"'),
            z.string({ error: 'environment variable values must be strings' }),
          )
          .default({}),
      })
      .strict()
      .prefault({}),
    healthCheck: z
      .object({
        path: z
          .string()
          .regex(/^\/[\x21-\x7e]*$/, 'must be a URL path starting with "/"')
          .max(MAX_PATH, `must be at most ${MAX_PATH} characters`)
          .default('/health'),
        intervalSeconds: int(5, 300, 'a whole number from 5 to 300 seconds').default(10),
        timeoutSeconds: int(2, 120, 'a whole number from 2 to 120 seconds').default(5),
        healthyThreshold: int(2, 10, 'a whole number from 2 to 10 checks').default(2),
        unhealthyThreshold: int(2, 10, 'a whole number from 2 to 10 checks').default(2),
        gracePeriodSeconds: int(0, 7200, 'a whole number from 0 to 7200 seconds').default(30),
      })
      .strict()
      .prefault({}),
    listeners: z
      .object({
        certificateArn: z
          .string()
          .regex(
            CERTIFICATE_ARN,
            'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
          )
          .optional(),
        domainName: z
          .string()
          .regex(
            /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
            'must be a lower-case DNS name such as "shop.example.com"',
          )
          .optional(),
        testPort: int(1, 65535, 'a TCP port from 1 to 65535 other than 80 and 443').default(9000),
        testAllowedCidrs: z
          .array(
            z
              .string()
              .regex(CIDR_V4, 'must be an IPv4 CIDR block such as "203.0.113.7/32"')
              .refine(
                (cidr) => Number(cidr.split('/')[1]) >= 16,
                'must be a /16 or narrower: the test listener is for the validation step and test runners, not the world',
              ),
          )
          .max(50, 'must list at most 50 CIDR blocks')
          .default([]),
      })
      .strict()
      .prefault({}),
    deregistrationDelaySeconds: int(0, 3600, 'a whole number from 0 to 3600 seconds').default(10),
    keepIdleWarm: z.boolean({ error: 'must be true or false' }).default(false),
    // Auto scaling of each color (lib/config-scaling.ts).
    scaling: scalingSchema,
    alarms: z
      .object({
        http5xxCount: int(1, 1_000_000, 'a whole number of at least 1').default(5),
        p99LatencyMs: int(1, 60_000, 'a whole number from 1 to 60000 ms').default(1000),
        unhealthyHosts: int(1, 1000, 'a whole number of at least 1').default(1),
        // ALB metrics are published once a minute: shorter periods would have no data and never alarm.
        periodSeconds: z
          .int({ error: PERIOD_RULE })
          .refine((v) => v >= 60 && v <= 3600 && v % 60 === 0, PERIOD_RULE)
          .default(60),
        evaluationPeriods: int(1, 10, 'a whole number from 1 to 10 periods').default(2),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        enabled: z.boolean({ error: 'must be true or false' }).default(false),
        nodeType: z
          .string()
          .regex(
            /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
            'must be an ElastiCache node type such as "cache.t4g.micro"',
          )
          .default('cache.t4g.micro'),
        replicas: int(0, 5, 'a whole number from 0 to 5 read replicas').default(1),
      })
      .strict()
      .prefault({}),
    release: z
      .object({
        bakeSeconds: int(0, 86_400, 'a whole number from 0 to 86400 seconds').default(300),
        watchIntervalSeconds: int(1, 300, 'a whole number from 1 to 300 seconds').default(10),
        failureThreshold: int(1, 100, 'a whole number from 1 to 100 checks').default(3),
        deployTimeoutSeconds: int(
          MIN_DEPLOY_TIMEOUT_SECONDS,
          7_200,
          `a whole number from ${MIN_DEPLOY_TIMEOUT_SECONDS} to 7200 seconds`,
        ).default(900),
        deployPollSeconds: int(1, 300, 'a whole number from 1 to 300 seconds').default(15),
        finishDelaySeconds: int(0, 86_400, 'a whole number from 0 to 86400 seconds').default(300),
        // `bluegreen rollback` after the old color went cold: only within this many hours of the last release.
        coldRollbackWindowHours: int(1, 8_760, 'a whole number from 1 to 8760 hours').default(24),
        maxReleaseMinutes: int(
          15,
          MAX_RELEASE_MINUTES,
          `a whole number from 15 to ${MAX_RELEASE_MINUTES} minutes`,
        ).default(120),
        smokeChecks: z
          .array(
            z
              .object({
                path: z
                  .string()
                  .regex(/^\/[\x21-\x7e]*$/, 'must be a URL path starting with "/"')
                  .max(MAX_PATH, `must be at most ${MAX_PATH} characters`),
                expectStatus: int(100, 599, 'an HTTP status from 100 to 599').default(200),
                expectVersion: z.boolean({ error: 'must be true or false' }).default(false),
                latencyBudgetMs: int(1, 60_000, 'a whole number from 1 to 60000 ms').default(1000),
              })
              .strict(),
          )
          .max(20, 'must list at most 20 checks')
          .optional(),
        // How traffic moves (each release may say otherwise): checked by parseStrategy, one line per problem.
        strategy: z.unknown().optional(),
        analysis: z
          .object({
            minRequests: int(1, 10_000_000, 'a whole number from 1 to 10000000 requests').default(
              DEFAULT_POLICY.minRequests,
            ),
            errorSignificance: z
              .number({ error: 'must be a number from 0.0001 to 0.2' })
              .min(0.0001, 'must be a number from 0.0001 to 0.2')
              .max(0.2, 'must be a number from 0.0001 to 0.2')
              .default(DEFAULT_POLICY.errorSignificance),
            latencyMargin: z
              .number({ error: 'must be a number from 0 to 10 (0.25: 25% slower at most)' })
              .min(0, 'must be a number from 0 to 10 (0.25: 25% slower at most)')
              .max(10, 'must be a number from 0 to 10 (0.25: 25% slower at most)')
              .default(DEFAULT_POLICY.latencyMargin),
            latencyFloorMs: int(0, 60_000, 'a whole number from 0 to 60000 ms').default(
              DEFAULT_POLICY.latencyFloorMs,
            ),
            minTailRequests: int(1, 10_000, 'a whole number from 1 to 10000 requests').default(10),
            latencyPercentile: z
              .union([z.literal(50), z.literal(90), z.literal(95), z.literal(99), z.literal(99.9)], {
                error: 'must be 50, 90, 95, 99 or 99.9',
              })
              .default(99),
            critical: z
              .object({
                errors: z.boolean({ error: 'must be true or false' }).default(true),
                latency: z.boolean({ error: 'must be true or false' }).default(true),
              })
              .strict()
              .prefault({}),
            onInconclusive: z
              .enum(['extend', 'rollback'], { error: 'must be "extend" (bake the step again) or "rollback"' })
              .default('extend'),
            maxExtensions: int(0, 10, 'a whole number from 0 to 10').default(2),
            alarms: z
              .array(
                z
                  .string()
                  .regex(
                    /^[\x20-\x7e]{1,255}$/,
                    'must be a CloudWatch alarm name (1-255 printable characters)',
                  ),
              )
              .max(20, 'must list at most 20 alarms')
              .default([]),
            dryRun: z.boolean({ error: 'must be true or false' }).default(false),
            stickySeconds: int(
              1,
              604_800,
              'a whole number from 1 to 604800 seconds (ALB group stickiness)',
            ).optional(),
            settleSeconds: int(60, 900, 'a whole number from 60 to 900 seconds').default(
              DEFAULT_SETTLE_SECONDS,
            ),
          })
          .strict()
          .prefault({}),
        validationHookArn: z.string().regex(LAMBDA_FUNCTION_ARN, LAMBDA_ARN_RULE).optional(),
        // Lifecycle hooks (lib/config-hooks.ts).
        hooks: hooksSchema,
      })
      .strict()
      .prefault({}),
    approval: z
      .union(
        [
          z.literal('none'),
          z.literal('before-switch'),
          z
            .object({
              at: z.literal('before-switch', { error: 'must be "before-switch"' }),
              // It counts against release.maxReleaseMinutes: a longer gate could never fit in a release.
              timeoutMinutes: int(
                1,
                MAX_APPROVAL_MINUTES,
                `a whole number from 1 to ${MAX_APPROVAL_MINUTES} minutes (it counts against release.maxReleaseMinutes, at most ${MAX_RELEASE_MINUTES})`,
              ).default(60),
              onTimeout: z
                .enum(['abort', 'approve'], { error: 'must be "abort" (the default) or "approve"' })
                .default('abort'),
            })
            .strict(),
        ],
        {
          error:
            'must be "none", "before-switch", or {"at": "before-switch", "timeoutMinutes": 60, "onTimeout": "abort"}',
        },
      )
      .default('none')
      .transform(normalizeApproval),
    migrations: z
      .object({
        command: z
          .array(z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'), {
            error: 'must be a list of strings such as ["node", "migrate.js"]',
          })
          .min(1, 'must name the program to run, such as ["node", "migrate.js"]')
          .max(20, 'must have at most 20 words'),
        timeoutMinutes: int(1, 240, 'a whole number from 1 to 240 minutes').default(15),
      })
      .strict()
      .optional(),
    database: z
      .object({
        engine: z
          .literal('aurora-postgresql', {
            error: 'must be "aurora-postgresql" (Aurora Serverless v2, PostgreSQL)',
          })
          .default('aurora-postgresql'),
        databaseName: z
          .string()
          .regex(
            /^[a-z][a-z0-9_]{0,62}$/,
            'must be a PostgreSQL name: lower-case letter, then letters, digits or _',
          )
          .default('app'),
        minCapacity: z
          .number({ error: 'must be a number of Aurora capacity units' })
          .refine(
            (v) => v >= 0 && v <= 256 && Number.isInteger(v * 2),
            'must be 0 to 256 ACUs in steps of 0.5',
          )
          .default(0.5),
        maxCapacity: z
          .number({ error: 'must be a number of Aurora capacity units' })
          .refine(
            (v) => v >= 1 && v <= 256 && Number.isInteger(v * 2),
            'must be 1 to 256 ACUs in steps of 0.5',
          )
          .default(2),
        deletionProtection: z.boolean({ error: 'must be true or false' }).default(true),
      })
      .strict()
      .optional(),
    githubDeployRole: z
      .object({
        repository: z.string().regex(GITHUB_REPOSITORY, 'must be a GitHub repository as "owner/name"'),
        branch: z
          .string()
          .regex(/^[A-Za-z0-9._/-]{1,200}$/, 'must be a branch name such as "main"')
          .default('main'),
        oidcProviderArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
            "must be the ARN of the account's GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)",
          )
          .optional(),
      })
      .strict()
      .optional(),
    // Chat notifications: an AWS Chatbot Slack channel configuration on the releases topic (README "Chat notifications").
    notifications: z
      .object({
        slack: z
          .object({
            workspaceId: z
              .string({ error: `is required: ${SLACK_WORKSPACE_WHAT}` })
              .regex(SLACK_WORKSPACE_ID, `must be ${SLACK_WORKSPACE_WHAT}`),
            channelId: z
              .string({ error: `is required: ${SLACK_CHANNEL_WHAT}` })
              .regex(SLACK_CHANNEL_ID, `must be ${SLACK_CHANNEL_WHAT}`),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    logRetentionDays: z
      .union(
        LOG_RETENTION_DAYS.map((d) => z.literal(d)),
        { error: `must be one of the CloudWatch Logs retention periods ${LOG_RETENTION_DAYS.join(', ')}` },
      )
      .default(30),
  })
  .strict();

/** The manual gate, normalized: off, or before the switch with its timeout and what a timeout does. */
export type ApprovalConfig =
  | { readonly at: 'none' }
  | {
      readonly at: 'before-switch';
      readonly timeoutMinutes: number;
      readonly onTimeout: 'abort' | 'approve';
    };

function normalizeApproval(
  value:
    | 'none'
    | 'before-switch'
    | { at: 'before-switch'; timeoutMinutes: number; onTimeout: 'abort' | 'approve' },
): ApprovalConfig {
  if (value === 'none') {
    return { at: 'none' };
  }
  return value === 'before-switch' ? { at: 'before-switch', timeoutMinutes: 60, onTimeout: 'abort' } : value;
}

export type BluegreenConfig = Omit<z.output<typeof schema>, 'instances' | 'release'> & {
  /** The release settings, with the strategy parsed ("all-at-once" when not set). */
  readonly release: Omit<z.output<typeof schema>['release'], 'strategy'> & { readonly strategy: Strategy };
  /** EC2 instances of the "asg" platform; `type` defaults by container.architecture (t4g.small or t3.small). */
  readonly instances: {
    readonly type: string;
    readonly volumeGiB: number;
    readonly maxCount: number;
    readonly gracePeriodSeconds: number;
  };
};
/** What a user writes: every field with a default may be left out. */
export type BluegreenConfigInput = z.input<typeof schema>;

/** Thrown when the configuration is wrong; `problems` has one line per mistake. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${source} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Validates a raw configuration object. Returns the typed configuration with defaults filled in, or throws a
 * ConfigError listing every problem (field checks and cross-field checks together).
 */
export function parseConfig(
  raw: unknown,
  source = DEFAULT_CONFIG_FILE,
  cli: CliEnvironment = {},
): BluegreenConfig {
  const result = schema.safeParse(raw, { reportInput: true });
  const problems = result.success ? [] : result.error.issues.map(describeIssue);
  problems.push(...crossFieldProblems(raw, cli));
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(source, problems);
  }
  const config = result.data;
  const parsedStrategy = parseStrategy(
    config.release.strategy ?? 'all-at-once',
    'release.strategy',
    2 * METRICS_PERIOD_SECONDS,
  );
  if (!parsedStrategy.strategy) {
    throw new ConfigError(source, parsedStrategy.problems);
  }
  const strategy: Strategy = parsedStrategy.strategy;
  const analysis = config.release.analysis;
  const budget = budgetProblems(config.release, config.release.maxReleaseMinutes * 60, {
    approvalSeconds: approvalSeconds(config.approval),
    migrationSeconds: migrationSeconds(config.migrations),
    shift: shiftBudget(strategy, analysis, analysis.settleSeconds, config.release.watchIntervalSeconds),
    hooks: hookBudget(hookTimings(config.release.hooks), config.release.bakeSeconds),
  });
  if (budget.length > 0) {
    throw new ConfigError(source, [
      ...approvalBudgetProblem(config, budget.length),
      ...budget.map((p) => `release: ${p}`),
    ]);
  }
  return {
    ...config,
    release: { ...config.release, strategy },
    aws: { account: config.aws.account ?? cli.account, region: config.aws.region ?? cli.region },
    instances: {
      ...config.instances,
      type: config.instances.type ?? (config.container.architecture === 'arm64' ? 't4g.small' : 't3.small'),
    },
  };
}

/**
 * The account and region the CDK CLI runs with (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION), used where the file
 * does not set aws.account / aws.region.
 */
export interface CliEnvironment {
  readonly account?: string;
  readonly region?: string;
}

export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  return { account: env.CDK_DEFAULT_ACCOUNT || undefined, region: env.CDK_DEFAULT_REGION || undefined };
}

/** Reads and validates a configuration file. */
export function loadConfig(file: string, cli: CliEnvironment = {}): BluegreenConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`cannot be read: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (e) {
    throw e instanceof InvalidJsonError ? new ConfigError(file, [e.message]) : e;
  }
  return parseConfig(raw, file, cli);
}

/** Account, region and repository name of a private ECR repository URI; undefined for other registries. */
export function parseEcrRepository(
  repository: string,
): { account: string; region: string; name: string } | undefined {
  const m = PRIVATE_ECR.exec(repository);
  return m ? { account: m[1], region: m[2], name: m[4] } : undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys
      .map((key) => {
        const hint = closest(key, allowed);
        const where = issue.path.length > 0 ? `${field}.${key}` : key;
        return `${where}: unknown field${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`;
      })
      .join('\n  - ');
  }
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && issue.message.startsWith('Invalid input: expected object')) {
    const required = requiredKeysAt(issue.path);
    return `${field}: is required: an object with ${required.length > 0 ? required.join(' and ') : 'its fields'} (see "Configuration" in README.md)`;
  }
  if (input === undefined && issue.message.startsWith('is required')) {
    return `${field}: ${issue.message}`;
  }
  const got = input === undefined ? 'nothing' : JSON.stringify(input);
  const message = issue.message.startsWith('Invalid input: expected object')
    ? 'must be an object'
    : issue.message.startsWith('Invalid input: expected array')
      ? 'must be a list'
      : issue.message.startsWith('Invalid input: expected')
        ? issue.message.replace('Invalid input: expected', 'must be a').replace(/, received \w+$/, '')
        : issue.message;
  return `${field}: ${message} (got ${got})`;
}

function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  return Object.keys(objectAt(path)?.shape ?? {});
}

/** The fields an object at `path` must have (no default, not optional). */
function requiredKeysAt(path: readonly PropertyKey[]): string[] {
  return Object.entries((objectAt(path)?.shape ?? {}) as Record<string, z.ZodType>)
    .filter(([, field]) => unwrap(field) === field)
    .map(([name]) => name);
}

/** The schema's object at `path`, if it is one. */
function objectAt(path: readonly PropertyKey[]): z.ZodObject | undefined {
  let node: z.ZodType = schema;
  for (const key of path) {
    node = unwrap(node);
    if (!(node instanceof z.ZodObject)) {
      return undefined;
    }
    node = (node.shape as Record<string, z.ZodType>)[String(key)];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? node : undefined;
}

function unwrap(node: z.ZodType): z.ZodType {
  let current: z.ZodType = node;
  while (
    current instanceof z.ZodDefault ||
    current instanceof z.ZodPrefault ||
    current instanceof z.ZodOptional
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The allowed key nearest to a mistyped one (edit distance at most 3), for "did you mean". */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/**
 * Checks that involve more than one field. They run on the raw input even when some fields are wrong, so that
 * one run reports everything; each check only looks at values that are well-formed on their own.
 */
function crossFieldProblems(raw: unknown, cli: CliEnvironment): string[] {
  const problems: string[] = [];
  const root = asRecord(raw);
  if (!root) {
    return problems;
  }
  const aws = asRecord(root.aws) ?? {};
  const vpc = asRecord(root.vpc) ?? {};
  const container = asRecord(root.container) ?? {};
  const healthCheck = asRecord(root.healthCheck) ?? {};
  const listeners = asRecord(root.listeners) ?? {};

  if (aws.region === undefined && !cli.region) {
    problems.push(
      'aws.region: is required: set it here, or run cdk with a region (AWS_REGION or a profile); the load ' +
        "balancer's access-log policy depends on it",
    );
  }

  if (typeof vpc.vpcId === 'string' && VPC_ID.test(vpc.vpcId)) {
    for (const key of ['cidr', 'maxAzs', 'natGateways']) {
      if (vpc[key] !== undefined) {
        problems.push(
          `vpc.${key}: only applies when bluegreen creates the VPC; remove it or remove vpc.vpcId`,
        );
      }
    }
    if ((aws.account ?? cli.account) === undefined || (aws.region ?? cli.region) === undefined) {
      problems.push(
        'aws: an existing VPC (vpc.vpcId) is looked up in a known account and region: set aws.account and aws.region',
      );
    }
    if (!Array.isArray(listeners.testAllowedCidrs) || listeners.testAllowedCidrs.length === 0) {
      problems.push(
        'listeners.testAllowedCidrs: with an existing VPC, list the public IPs of its NAT gateways as "x.x.x.x/32" ' +
          '(aws ec2 describe-nat-gateways --filter Name=vpc-id,Values=<vpc id>) so the validation step can reach ' +
          'the test listener; bluegreen does not open it to the world',
      );
    }
  } else {
    const maxAzs = typeof vpc.maxAzs === 'number' ? vpc.maxAzs : 2;
    if (typeof vpc.natGateways === 'number' && vpc.natGateways > maxAzs) {
      problems.push(`vpc.natGateways: must be at most vpc.maxAzs (${maxAzs}) (got ${vpc.natGateways})`);
    }
  }

  const platform = root.platform === 'asg' ? 'asg' : 'ecs';
  const instances = asRecord(root.instances) ?? {};
  const architecture = container.architecture === 'x86_64' ? 'x86_64' : 'arm64';
  if (platform === 'asg' && typeof instances.type === 'string' && INSTANCE_TYPE.test(instances.type)) {
    const graviton = GRAVITON.test(instances.type);
    if (graviton !== (architecture === 'arm64')) {
      problems.push(
        `instances.type: ${instances.type} is ${graviton ? 'arm64 (Graviton)' : 'x86_64'}, but container.architecture ` +
          `is ${architecture}: the image would not run (use ${architecture === 'arm64' ? '"t4g.small" or another Graviton type' : '"t3.small" or another x86_64 type'}, or change container.architecture)`,
      );
    }
  }
  const desired = typeof container.desiredCount === 'number' ? container.desiredCount : 2;
  if (platform === 'asg' && typeof instances.maxCount === 'number' && instances.maxCount < desired) {
    problems.push(
      `instances.maxCount: must be at least container.desiredCount (${desired}), the instances a color runs (got ${instances.maxCount})`,
    );
  }
  problems.push(
    ...scalingProblems(root.scaling, {
      platform,
      desiredCount: desired,
      instancesMaxCount: typeof instances.maxCount === 'number' ? instances.maxCount : 10,
    }),
  );

  const cpu = typeof container.cpu === 'number' ? container.cpu : 256;
  const memory = typeof container.memoryMiB === 'number' ? container.memoryMiB : 512;
  const allowedMemory = FARGATE_SIZES[cpu];
  if (platform === 'ecs' && allowedMemory && !allowedMemory.includes(memory)) {
    problems.push(
      `container.memoryMiB: with container.cpu ${cpu}, Fargate allows ${describeSizes(allowedMemory)} MiB (got ${memory})`,
    );
  }

  if (
    typeof listeners.certificateArn === 'string' &&
    CERTIFICATE_ARN.test(listeners.certificateArn) &&
    listeners.domainName === undefined
  ) {
    problems.push(
      'listeners.domainName: is required with a certificate: the name the certificate covers, pointed at the ' +
        "load balancer (a certificate cannot cover the load balancer's own amazonaws.com name, so the release " +
        'workflow tests and watches through this name)',
    );
  }

  if (typeof listeners.testPort === 'number' && RESERVED_PORTS.includes(listeners.testPort)) {
    problems.push(
      `listeners.testPort: must differ from the production ports 80 and 443 (got ${listeners.testPort})`,
    );
  }

  const timeout = typeof healthCheck.timeoutSeconds === 'number' ? healthCheck.timeoutSeconds : 5;
  const interval = typeof healthCheck.intervalSeconds === 'number' ? healthCheck.intervalSeconds : 10;
  if (timeout >= interval) {
    problems.push(
      `healthCheck.timeoutSeconds: must be less than healthCheck.intervalSeconds (${interval}) (got ${timeout})`,
    );
  }

  const environment = asRecord(container.environment) ?? {};
  for (const name of Object.keys(environment).filter((n) => RESERVED_ENV.includes(n))) {
    problems.push(`container.environment.${name}: is set by bluegreen itself; choose another name`);
  }

  // The stack's region comes from the file or, without aws.region, from the CLI (CDK_DEFAULT_REGION).
  const region = typeof aws.region === 'string' ? aws.region : cli.region;
  if (typeof listeners.certificateArn === 'string' && region) {
    const certRegion = listeners.certificateArn.split(':')[3];
    if (certRegion && certRegion !== region) {
      problems.push(
        `listeners.certificateArn: must be in the stack's region ${region}${typeof aws.region === 'string' ? '' : ' (from the CLI)'}; the load balancer cannot use a certificate from ${certRegion}`,
      );
    }
  }

  return problems;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) {
    values.push(v);
  }
  return values;
}

function describeSizes(sizes: readonly number[]): string {
  if (sizes.length <= 3) {
    return sizes.join(', ');
  }
  return `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${sizes[1] - sizes[0]}`;
}

/**
 * When the manual gate is what makes a release overrun its timeout (the rest fits), a line that names both fields
 * and how long the gate may be with these timings.
 */
function approvalBudgetProblem(config: z.output<typeof schema>, problems: number): string[] {
  const approval = config.approval;
  if (approval.at !== 'before-switch') {
    return [];
  }
  const release = config.release;
  const waits = {
    migrationSeconds: migrationSeconds(config.migrations),
    hooks: hookBudget(hookTimings(release.hooks), release.bakeSeconds),
  };
  if (budgetProblems(release, release.maxReleaseMinutes * 60, waits).length >= problems) {
    return [];
  }
  const rest =
    release.deployTimeoutSeconds +
    release.bakeSeconds +
    release.finishDelaySeconds +
    waits.migrationSeconds +
    waits.hooks.seconds;
  const room = Math.floor((release.maxReleaseMinutes * 60 - rest - FIXED_SECONDS) / 60);
  return [
    `approval.timeoutMinutes: ${approval.timeoutMinutes} minutes of gate do not fit in release.maxReleaseMinutes ` +
      `(${release.maxReleaseMinutes}) with the release's other waits: at most ${room} with these timings; ` +
      `shorten approval.timeoutMinutes or raise release.maxReleaseMinutes (up to ${MAX_RELEASE_MINUTES})`,
  ];
}

/** The longest a release may wait at the manual gate (0 without one). */
export function approvalSeconds(approval: ApprovalConfig): number {
  return approval.at === 'before-switch' ? approval.timeoutMinutes * 60 : 0;
}

/**
 * The longest a release may spend in database migrations (0 without): four phases at most, a contract the
 * previous release left pending, then expand, backfill and contract.
 */
export function migrationSeconds(migrations: { readonly timeoutMinutes: number } | undefined): number {
  return migrations ? 4 * migrations.timeoutMinutes * 60 : 0;
}
