/** State "Validate idle color": smoke checks through the test listener, target health, hook. Core: workflow/validate.ts. */
import { awsStep } from './adapters/aws-deps';
import { validate } from './workflow/validate';

export const handler = awsStep('Validate idle color', validate);
