/** State "Finish": scale the old color down (or keep it warm), release the lock, publish. Core: workflow/conclude.ts. */
import { awsStep } from './adapters/aws-deps';
import { finish } from './workflow/conclude';

export const handler = awsStep('Finish', finish);
