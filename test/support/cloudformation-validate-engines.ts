/**
 * CDK's built-in CloudFormation Validate (the synth-time check that cdk.json's
 * `@aws-cdk/core:validateAgainstDefaultRules` turns into errors), with its engines kept for a whole Jest worker.
 *
 * Jest gives every test file its own copy of every module, so every file that synthesized built the validator
 * again: a WebAssembly engine with its rules compiled, about 5 s of CPU before the first template was checked (a
 * third of the suite's CPU). This module is loaded by the test environment (test/support/environment.ts), outside
 * the test files' sandboxes, once per worker; the files reach it through test/support/test-app.ts. It runs the same
 * plugin class on the same templates with the same rules: only the engine outlives the file.
 *
 * It runs in the worker's own realm: it takes and gives JSON text, never objects of a test file's realm.
 */
import { readFileSync } from 'node:fs';
import { CloudFormationValidatePlugin, type PolicyValidationStack } from 'aws-cdk-lib';

/** The name of the global through which the environment hands `validateStacks` to the test files. */
export const VALIDATE_STACKS = '__bluegreenValidateStacks';

/** The engines so far, each with the resource types its rules were loaded for. */
const engines: { readonly plugin: CloudFormationValidatePlugin; types: Set<string> }[] = [];

/**
 * Validates the stacks' templates (`PolicyValidationStack[]` as JSON) as the built-in plugin does, and returns
 * the plugin's report (with its version) as JSON.
 */
export function validateStacks(stacksJson: string): string {
  const stackTemplates = JSON.parse(stacksJson) as PolicyValidationStack[];
  const types = resourceTypes(stackTemplates);
  // The plugin loads the rules for the resource types it is given and keeps its engine for any later set of
  // types within them (a new set builds a new engine). One plugin per set that is not within an earlier one keeps
  // an engine for each shape of app: a file of ECS stacks after a file of EC2 Auto Scaling stacks reuses one.
  let engine = engines.find((e) => isSubset(types, e.types));
  if (!engine) {
    engine = { plugin: new CloudFormationValidatePlugin(), types };
    engines.push(engine);
  }
  const report = engine.plugin.validate({
    stackTemplates,
    templatePaths: stackTemplates.map((s) => s.templatePath),
    accountId: undefined,
    region: undefined,
    // The plugin reads the templates only (their paths, accounts and regions): no construct crosses realms.
    appConstruct: undefined as never,
  });
  return JSON.stringify({ report, version: engine.plugin.version });
}

function resourceTypes(stacks: readonly PolicyValidationStack[]): Set<string> {
  const types = new Set<string>();
  for (const stack of stacks) {
    const template = JSON.parse(readFileSync(stack.templatePath, 'utf8')) as {
      Resources?: Record<string, { Type?: unknown }>;
    };
    for (const resource of Object.values(template.Resources ?? {})) {
      if (typeof resource?.Type === 'string') {
        types.add(resource.Type);
      }
    }
  }
  return types;
}

function isSubset(subset: ReadonlySet<string>, superset: ReadonlySet<string>): boolean {
  return [...subset].every((t) => superset.has(t));
}
