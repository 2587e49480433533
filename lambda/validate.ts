/** State "Validate idle color": smoke checks through the test listener, target health, hook. Core: workflow/validate.ts. */
import { stepHandler } from './adapters/aws-deps';
import { validate } from './workflow/validate';

export const handler = stepHandler('Validate idle color', (state, deps, settings) =>
  validate(state, deps, settings.workflow),
);
