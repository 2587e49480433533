/**
 * The lifecycle hooks' configuration (`release.hooks`, all optional): beforeDeploy (admission), afterShift (tests
 * against production during the bake) and onRollback, each a Lambda function ARN with its timeout and poll
 * interval (lambda/shared/hook-contract.ts has the contract).
 */
import { z } from 'zod';
import type { HookTimings } from '../lambda/shared/hook-contract';
import { HOOK_NAMES } from '../lambda/shared/hook-contract';
import type { HookName } from '../lambda/shared/release';

/** A Lambda function ARN, optionally with a version or alias. */
export const LAMBDA_FUNCTION_ARN =
  /^arn:aws(-[a-z]+){0,2}:lambda:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/;
export const LAMBDA_ARN_RULE =
  'must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)';

const whole = (min: number, max: number, unit: string) => {
  const rule = `must be a whole number from ${min} to ${max} ${unit}`;
  return z.int({ error: rule }).min(min, rule).max(max, rule);
};

const hookSchema = z
  .object({
    functionArn: z
      .string({ error: `is required: the hook's function; ${LAMBDA_ARN_RULE.replace('must be ', '')}` })
      .regex(LAMBDA_FUNCTION_ARN, LAMBDA_ARN_RULE),
    timeoutSeconds: whole(10, 3600, 'seconds').default(600),
    pollSeconds: whole(5, 300, 'seconds').default(30),
  })
  .strict();

export const hooksSchema = z
  .object({
    beforeDeploy: hookSchema.optional(),
    afterShift: hookSchema.optional(),
    onRollback: hookSchema.optional(),
  })
  .strict()
  .optional();

export type HooksConfig = z.output<typeof hooksSchema>;

/** The configured hooks' timings, for every step's settings (undefined when none is configured). */
export function hookTimings(hooks: HooksConfig): HookTimings | undefined {
  const configured = HOOK_NAMES.filter((h) => hooks?.[h] !== undefined);
  if (configured.length === 0) {
    return undefined;
  }
  return Object.fromEntries(
    configured.map((h) => [
      h,
      { timeoutSeconds: hooks![h]!.timeoutSeconds, pollSeconds: hooks![h]!.pollSeconds },
    ]),
  );
}

/** The configured hooks' functions, by hook (for the hook step's settings and its grant). */
export function hookFunctions(hooks: HooksConfig): Partial<Record<HookName, string>> {
  return Object.fromEntries(
    HOOK_NAMES.filter((h) => hooks?.[h] !== undefined).map((h) => [h, hooks![h]!.functionArn]),
  );
}
