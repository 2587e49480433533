/** State "Wait for approval" (manual gate, callback task): say what waits and how to answer. Core: workflow/approval.ts. */
import { awsStep } from './adapters/aws-deps';
import { requestApproval } from './workflow/approval';

export const handler = awsStep('Wait for approval', requestApproval);
