/** State "Finish": scale the old color down (or keep it warm), release the lock, publish. Core: workflow/conclude.ts. */
import { stepHandler } from './adapters/aws-deps';
import { finish } from './workflow/conclude';

export const handler = stepHandler('Finish', (state, deps, settings) =>
  finish(state, deps, settings.workflow),
);
