/** State "Roll back": traffic and record back to the old color. Core: workflow/conclude.ts. */
import { awsStep } from './adapters/aws-deps';
import { rollback } from './workflow/conclude';

export const handler = awsStep('Roll back', rollback);
