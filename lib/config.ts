/**
 * The one configuration of a bluegreen app: loading and validating it, reporting every mistake at once (the field,
 * what is wrong, what is allowed, what was given), and the typed result. Every name the rest of the code uses comes
 * from here; the schema and its defaults are in lib/config-schema.ts (the release workflow's blocks in
 * lib/config-release.ts), the messages in lib/config-messages.ts, the checks across fields in
 * lib/config-cross-field.ts.
 *
 * The file is `bluegreen.config.json` at the project root; `-c config=path/to/file.json` (CDK context) or the
 * BLUEGREEN_CONFIG environment variable points the app at another one.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { hookBudget } from '../lambda/shared/hook-contract';
import { budgetProblems } from '../lambda/shared/release';
import { parseStrategy, shiftBudget, type Strategy } from '../lambda/shared/strategy';
import { hookTimings } from './config-hooks';
import { approvalBudgetProblem, crossFieldProblems } from './config-cross-field';
import { describeIssue } from './config-messages';
import { approvalSeconds, METRICS_PERIOD_SECONDS, migrationSeconds } from './config-release';
import { configSchema } from './config-schema';
import { InvalidJsonError, parseJson } from './json';

export {
  approvalSeconds,
  DEFAULT_SETTLE_SECONDS,
  METRICS_PERIOD_SECONDS,
  migrationSeconds,
  type ApprovalConfig,
} from './config-release';
export { FARGATE_SIZES, LOG_RETENTION_DAYS } from './config-schema';

export const DEFAULT_CONFIG_FILE = 'bluegreen.config.json';

const PRIVATE_ECR = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/(.+)$/;

export type BluegreenConfig = Omit<z.output<typeof configSchema>, 'instances' | 'release'> & {
  /** The release settings, with the strategy parsed ("all-at-once" when not set). */
  readonly release: Omit<z.output<typeof configSchema>['release'], 'strategy'> & {
    readonly strategy: Strategy;
  };
  /** EC2 instances of the "asg" platform; `type` defaults by container.architecture (t4g.small or t3.small). */
  readonly instances: {
    readonly type: string;
    readonly volumeGiB: number;
    readonly maxCount: number;
    readonly gracePeriodSeconds: number;
  };
};
/** What a user writes: every field with a default may be left out. */
export type BluegreenConfigInput = z.input<typeof configSchema>;

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
  const result = configSchema.safeParse(raw, { reportInput: true });
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
