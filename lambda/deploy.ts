/** State "Deploy to idle color": new revision with the image, live capacity. Core: workflow/deploy.ts. */
import { stepHandler } from './adapters/aws-deps';
import { startDeploy } from './workflow/deploy';

export const handler = stepHandler('Deploy to idle color', (state, deps) => startDeploy(state, deps));
