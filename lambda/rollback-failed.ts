/** State "Report failed rollback": notify loudly, release the lock. Core: workflow/conclude.ts. */
import { stepHandler } from './adapters/aws-deps';
import { rollbackFailed } from './workflow/conclude';

export const handler = stepHandler('Report failed rollback', (state, deps, settings) =>
  rollbackFailed(state, deps, settings.workflow),
);
