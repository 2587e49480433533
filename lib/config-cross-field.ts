/**
 * The configuration's checks that involve more than one field (the VPC and its account, the instance type and the
 * architecture, the Fargate size, the certificate and its region, ...), and the line that says how long the manual
 * gate may be when it is what makes a release overrun. lib/config.ts reports them with the schema's problems.
 */
import type { z } from 'zod';
import { hookBudget } from '../lambda/shared/hook-contract';
import { budgetProblems, FIXED_SECONDS } from '../lambda/shared/release';
import type { CliEnvironment } from './config';
import { hookTimings } from './config-hooks';
import { MAX_RELEASE_MINUTES, migrationSeconds } from './config-release';
import { scalingProblems } from './config-scaling';
import { CERTIFICATE_ARN, FARGATE_SIZES, INSTANCE_TYPE, VPC_ID, type configSchema } from './config-schema';

const RESERVED_PORTS = [80, 443];
/** Graviton (arm64) instance families: a "g" after the generation (t4g, m7g, c7gn, r8gd, im4gn), or a1. */
const GRAVITON = /^([a-z]+\d+[a-z]*g[a-z]*|a1)\./;
const RESERVED_ENV = ['BLUEGREEN_COLOR', 'BLUEGREEN_APP', 'PORT', 'REDIS_URL', 'REDIS_AUTH_TOKEN'];

/**
 * Checks that involve more than one field. They run on the raw input even when some fields are wrong, so that
 * one run reports everything; each check only looks at values that are well-formed on their own.
 */
export function crossFieldProblems(raw: unknown, cli: CliEnvironment): string[] {
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
export function approvalBudgetProblem(config: z.output<typeof configSchema>, problems: number): string[] {
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
