/** State "Prepare": validate the input, take the lock, check record vs listener. Core: workflow/prepare.ts. */
import { awsStep } from './adapters/aws-deps';
import { prepare } from './workflow/prepare';

export const handler = awsStep('Prepare', prepare);
