/** State "Switch traffic": production listener to the new color, then the record. Core: workflow/switch.ts. */
import { stepHandler } from './adapters/aws-deps';
import { switchTraffic } from './workflow/switch';

export const handler = stepHandler('Switch traffic', (state, deps) => switchTraffic(state, deps));
