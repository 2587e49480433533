/** States "Abort" and "Refuse": undo the idle color, or just release the lock. Core: workflow/conclude.ts. */
import { awsStep } from './adapters/aws-deps';
import { abort } from './workflow/conclude';

export const handler = awsStep('Abort', abort);
