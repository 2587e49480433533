/** State "Report failed rollback": notify loudly, release the lock. Core: workflow/conclude.ts. */
import { awsStep } from './adapters/aws-deps';
import { rollbackFailed } from './workflow/conclude';

export const handler = awsStep('Report failed rollback', rollbackFailed);
