/**
 * State "Analyse step": one check of a shift step (listener, health, alarms, promote), and once its window's
 * metrics are complete the comparison of the new color with the old one. Core: workflow/analyse.ts.
 */
import { awsStep } from './adapters/aws-deps';
import { analyseStep } from './workflow/analyse';

export const handler = awsStep('Analyse step', analyseStep);
