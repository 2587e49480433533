/**
 * State "Check new live color": one bake check (the listener, health and version through production, alarms).
 * Core: workflow/watch.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { watch } from './workflow/watch';

export const handler = awsStep('Check new live color', watch);
