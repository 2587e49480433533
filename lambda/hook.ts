/**
 * States "Admission hook", "Production hook" and "Rollback hook": one call of the lifecycle hook the state names.
 * Core: workflow/hooks.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { callHook } from './workflow/hooks';

export const handler = awsStep('Lifecycle hook', callHook);
