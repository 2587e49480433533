/**
 * State "Record contract" (migrations with keepIdleWarm): the previous release's contract ran at this release's
 * start; the record says so, and no rollback may cross it. Core: workflow/migrations.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { recordPreviousContract } from './workflow/migrations';

export const handler = awsStep('Record contract', recordPreviousContract);
