import { BluegreenError } from '../shared/errors';

/**
 * The named error of a fleet asked to set scaling bounds when the stack configures no auto scaling: `what` says
 * what was asked (e.g. "set green's bounds to 2..2").
 */
export function scalingNotConfigured(what: string): BluegreenError {
  return new BluegreenError(
    'ScalingNotConfigured',
    `Cannot ${what}: the stack configures no auto scaling. Add "scaling" (minCount, maxCount and at least one ` +
      'target) to bluegreen.config.json and deploy the stack (npx cdk deploy --all).',
  );
}
