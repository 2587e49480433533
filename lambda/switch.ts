/** State "Switch traffic": production listener to the new color, then the record. Core: workflow/switch.ts. */
import { awsStep } from './adapters/aws-deps';
import { switchTraffic } from './workflow/switch';

export const handler = awsStep('Switch traffic', switchTraffic);
