/** State "Check idle color": ready, waiting, or DeployFailed / DeployTimeout. Core: workflow/deploy.ts. */
import { stepHandler } from './adapters/aws-deps';
import { checkDeploy } from './workflow/deploy';

export const handler = stepHandler('Check idle color', (state, deps) => checkDeploy(state, deps));
