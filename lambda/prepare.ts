/** State "Prepare": validate the input, take the lock, check record vs listener. Core: workflow/prepare.ts. */
import { stepHandler } from './adapters/aws-deps';
import { prepare } from './workflow/prepare';

export const handler = stepHandler('Prepare', (state, deps, settings) =>
  prepare(state, deps, settings.workflow),
);
