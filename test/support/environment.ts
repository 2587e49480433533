/**
 * The tests' Jest environment: Node's, plus the worker-wide CloudFormation Validate engines
 * (test/support/cloudformation-validate-engines.ts) as a global the test files' apps call (test/support/test-app.ts).
 * Jest loads this module once per worker, outside the test files' sandboxes.
 */
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import { VALIDATE_STACKS, validateStacks } from './cloudformation-validate-engines';

export default class BluegreenTestEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.global[VALIDATE_STACKS] = validateStacks;
  }
}
