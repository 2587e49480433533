/**
 * State "Report contract failure" (migrations only): the new version is live, its contract failed. Traffic
 * stays; the contract is recorded as pending; lock released; ContractFailed published. Core: workflow/conclude.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { contractFailed } from './workflow/conclude';

export const handler = awsStep('Report contract failure', contractFailed);
