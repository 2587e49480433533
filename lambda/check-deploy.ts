/** State "Check idle color": ready, waiting, or DeployFailed / DeployTimeout. Core: workflow/deploy.ts. */
import { awsStep } from './adapters/aws-deps';
import { checkDeploy } from './workflow/deploy';

export const handler = awsStep('Check idle color', checkDeploy);
