import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addBluegreenStacks, type BluegreenStacks } from '../../lib/app';
import { parseConfig, type BluegreenConfig, type BluegreenConfigInput } from '../../lib/config';
import { tempDir } from './temp';
import { testApp } from './test-app';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export const BASE_CONFIG: BluegreenConfigInput = {
  appName: 'shop',
  aws: { region: 'eu-west-1' },
  image: { repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop', initialTag: 'v1' },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface Synthesized {
  readonly config: BluegreenConfig;
  readonly app: App;
  readonly stacks: BluegreenStacks;
  readonly service: Template;
  readonly record: Template;
  /** The raw service template, for checks that walk it. */
  readonly serviceJson: CfnTemplate;
}

export interface CfnTemplate {
  Parameters?: Record<string, { Type: string; Default?: string }>;
  Conditions?: Record<string, unknown>;
  Rules?: Record<string, { Assertions: { Assert: unknown; AssertDescription: string }[] }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>;
  Outputs?: Record<string, { Value: unknown }>;
}

/**
 * Synthesizes bluegreen's stacks for BASE_CONFIG plus `overrides`, with cdk-nag on (a finding fails the synth,
 * as it fails `cdk synth`). `mutate` runs after the stacks are built and before synthesis; `context` adds CDK
 * context (for example the answer to a VPC lookup, as cdk.context.json would hold it).
 */
export function synth(
  overrides: DeepPartial<BluegreenConfigInput> = {},
  mutate?: (stacks: BluegreenStacks) => void,
  context: Record<string, unknown> = {},
): Synthesized {
  const config = parseConfig(merge(BASE_CONFIG, overrides));
  // Lambda bundling is skipped unless a test asks for it (context 'aws:cdk:bundling-stacks': ['**']).
  const app = testApp({
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
    // Removed when the test file ends (tests read app.outdir after synth: nag report, bundles).
    outdir: tempDir('bluegreen-test-'),
  });
  const stacks = addBluegreenStacks(app, config);
  mutate?.(stacks);
  const assembly = app.synth();
  const serviceJson = assembly.getStackByName(stacks.service.stackName).template as CfnTemplate;
  return {
    config,
    app,
    stacks,
    service: Template.fromJSON(serviceJson),
    record: Template.fromJSON(assembly.getStackByName(stacks.record.stackName).template as object),
    serviceJson,
  };
}

export function merge<T>(base: T, overrides: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(overrides)) {
    return (overrides === undefined ? base : overrides) as T;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    out[key] = value !== undefined && key in out ? merge(out[key], value) : value;
  }
  return out as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resources of one type, by logical id. */
export function resourcesOfType(t: CfnTemplate, type: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, r.Properties ?? {}]),
  );
}
