/**
 * The configuration's schema: every field with its default and its rule in words, the infrastructure blocks here
 * and the release workflow's blocks from lib/config-release.ts (scaling and hooks from lib/config-scaling.ts and
 * lib/config-hooks.ts). lib/config.ts validates with it; checks across fields are in lib/config-cross-field.ts.
 */
import { z } from 'zod';
import { int, MAX_PATH, MAX_REPOSITORY } from './config-fields';
import { approvalSchema, migrationsSchema, releaseSchema } from './config-release';
import { scalingSchema } from './config-scaling';

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

const PERIOD_RULE = 'must be a multiple of 60 from 60 to 3600 seconds (ALB metrics come once a minute)';

const APP_NAME = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
export const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
// registry/path, lowercase, no tag or digest (those belong in initialTag).
const REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/;
const TAG_OR_DIGEST = /^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64})$/;
const CIDR_V4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
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

/** The whole configuration, field by field, in the order "allowed:" lists them. */
export const configSchema = z
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
    release: releaseSchema,
    approval: approvalSchema,
    migrations: migrationsSchema,
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

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) {
    values.push(v);
  }
  return values;
}
