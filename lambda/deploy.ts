/** State "Deploy to idle color": new revision with the image, live capacity. Core: workflow/deploy.ts. */
import { awsStep } from './adapters/aws-deps';
import { startDeploy } from './workflow/deploy';

export const handler = awsStep('Deploy to idle color', startDeploy);
