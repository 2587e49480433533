/** States "Abort" and "Refuse": undo the idle color, or just release the lock. Core: workflow/conclude.ts. */
import { stepHandler } from './adapters/aws-deps';
import { abort } from './workflow/conclude';

export const handler = stepHandler('Abort', (state, deps, settings) => abort(state, deps, settings.workflow));
