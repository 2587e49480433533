/**
 * State "Shift traffic": one step of a gradual shift (the new color re-checked, the listener still where the last
 * step left it, then the step's weights and the record). Core: workflow/shift.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { shiftTraffic } from './workflow/shift';

export const handler = awsStep('Shift traffic', shiftTraffic);
