/**
 * State "Switch traffic": the idle color re-checked, then the production listener to it, then the record.
 * Core: workflow/switch.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { switchTraffic } from './workflow/switch';

export const handler = awsStep('Switch traffic', switchTraffic);
