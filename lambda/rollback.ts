/** State "Roll back": traffic and record back to the old color. Core: workflow/conclude.ts. */
import { stepHandler } from './adapters/aws-deps';
import { rollback } from './workflow/conclude';

export const handler = stepHandler('Roll back', (state, deps, settings) =>
  rollback(state, deps, settings.workflow),
);
