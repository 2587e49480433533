/**
 * CDK's built-in CloudFormation Validate (the synth-time check that cdk.json's
 * `@aws-cdk/core:validateAgainstDefaultRules` turns into errors), with its engine kept for a whole Jest worker.
 *
 * Jest gives every test file its own copy of every module, so every file that synthesized built the validator
 * again: a WebAssembly engine, 1.5-2 s of CPU for each new set of resource types, about 5 s per file (a third of
 * the suite's CPU). This module is loaded by the test environment (test/support/environment.ts), outside the test
 * files' sandboxes, once per worker; the files reach it through test/support/test-app.ts. It runs the same plugin
 * class on the same templates with the same rules: only the engine outlives the file, and templates already found
 * clean in this run are not checked again.
 *
 * It runs in the worker's own realm: it takes and gives JSON text, never objects of a test file's realm.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CloudFormationValidatePlugin, type PolicyValidationStack } from 'aws-cdk-lib';
import { RUN_CACHE_ENV } from './run-cache';

/** The name of the global through which the environment hands `validateStacks` to the test files. */
export const VALIDATE_STACKS = '__bluegreenValidateStacks';

const plugin = new CloudFormationValidatePlugin();

/**
 * Validates the stacks' templates (`PolicyValidationStack[]` as JSON) as the built-in plugin does, and returns
 * the plugin's report (with its version) as JSON.
 */
export function validateStacks(stacksJson: string): string {
  const stackTemplates = JSON.parse(stacksJson) as PolicyValidationStack[];
  const templates = stackTemplates.map((s) => readFileSync(s.templatePath, 'utf8'));
  const clean = cleanMark(stackTemplates, templates);
  if (clean && existsSync(clean)) {
    return JSON.stringify({
      report: { success: true, violations: [] },
      version: readFileSync(clean, 'utf8'),
    });
  }
  keepEngineFor(resourceTypes(templates));
  const report = plugin.validate({
    stackTemplates,
    templatePaths: stackTemplates.map((s) => s.templatePath),
    accountId: undefined,
    region: undefined,
    // The plugin reads the templates only (their paths, accounts and regions): no construct crosses realms.
    appConstruct: undefined as never,
  });
  if (clean && report.success && report.violations.length === 0) {
    writeFileSync(clean, plugin.version ?? '');
  }
  return JSON.stringify({ report, version: plugin.version });
}

/**
 * Where the run's cache (test/support/run-cache.ts) marks these exact templates (and their stacks' paths,
 * accounts and regions) as found clean: many test files synthesize the same configuration, and its templates are
 * checked once per run. Only a clean report is kept (nothing in it names a file); a report with findings is made
 * afresh each time. Undefined outside a run with a cache.
 */
function cleanMark(
  stacks: readonly PolicyValidationStack[],
  templates: readonly string[],
): string | undefined {
  const dir = process.env[RUN_CACHE_ENV];
  if (!dir || !existsSync(dir)) {
    return undefined;
  }
  const hash = createHash('sha256');
  stacks.forEach((s, i) =>
    hash.update(JSON.stringify([s.stackConstructPath, s.accountId, s.region])).update(templates[i]),
  );
  return join(dir, `cloudformation-validate-clean-${hash.digest('hex')}`);
}

/**
 * The plugin builds its engine with the built-in rules for the templates' resource types, and builds it again for
 * any template with a type the engine was not built for, even when the rules are the same (the same engine, 1.5-2
 * s of CPU): across a worker's files, that is nearly every file. When the rules for `types` are the ones the engine
 * has, the engine is marked as built for them too, and the plugin keeps it; when they differ, the plugin builds the
 * engine it would have built. (Its fields are not public: if they change, this does nothing and the plugin
 * rebuilds as it always did.)
 */
function keepEngineFor(types: ReadonlySet<string>): void {
  const state = plugin as unknown as { engine?: unknown; engineResourceTypes?: unknown };
  const built = state.engineResourceTypes;
  if (state.engine === undefined || !(built instanceof Set)) {
    return;
  }
  const engineTypes = built as Set<string>;
  if (builtinRules(new Set([...engineTypes, ...types])) === builtinRules(engineTypes)) {
    types.forEach((t) => engineTypes.add(t));
  }
}

/** aws-cdk-lib's index of its built-in rules (file and resource types), read as the plugin reads it. */
const RULE_INDEX = (() => {
  try {
    const file = join(
      dirname(require.resolve('aws-cdk-lib')),
      'core/lib/validation/rules/index.generated.json',
    );
    return (JSON.parse(readFileSync(file, 'utf8')) as { rules: { file: string; types: string[] | null }[] })
      .rules;
  } catch {
    return undefined;
  }
})();

/** The built-in rules the plugin loads for `types`, as one key (unknown without the index: never equal). */
function builtinRules(types: ReadonlySet<string>): string | object {
  if (!RULE_INDEX) {
    return {};
  }
  return RULE_INDEX.filter((r) => r.types === null || r.types.some((t) => types.has(t)))
    .map((r) => r.file)
    .sort()
    .join('\n');
}

function resourceTypes(templates: readonly string[]): Set<string> {
  const types = new Set<string>();
  for (const text of templates) {
    const template = JSON.parse(text) as { Resources?: Record<string, { Type?: unknown }> };
    for (const resource of Object.values(template.Resources ?? {})) {
      if (typeof resource?.Type === 'string') {
        types.add(resource.Type);
      }
    }
  }
  return types;
}
