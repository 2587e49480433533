/**
 * State "Register new revision" (migrations only): the release's revision, registered but not running, and the
 * task definition the migration phases run with. Core: workflow/migrations.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { registerRevision } from './workflow/migrations';

export const handler = awsStep('Register new revision', registerRevision);
