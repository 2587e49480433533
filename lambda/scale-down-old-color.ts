/**
 * States "Scale old color down" and "Scale idle color down" (migrations only): before a contract, the color with
 * the older version goes to zero, so nothing can send traffic back to it. Core: workflow/migrations.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { scaleDownOldColor } from './workflow/migrations';

export const handler = awsStep('Scale old color down', scaleDownOldColor);
