/** State "Check new live color": one bake check (health through production, alarms). Core: workflow/watch.ts. */
import { stepHandler } from './adapters/aws-deps';
import { watch } from './workflow/watch';

export const handler = stepHandler('Check new live color', (state, deps, settings) =>
  watch(state, deps, settings.workflow),
);
