/**
 * Building blocks the configuration's blocks share (lib/config-schema.ts, lib/config-release.ts): whole-number
 * fields that say their rule in words, and the length limits of the values every step carries.
 */
import { z } from 'zod';

/**
 * Lengths that keep every step's environment under Lambda's 4 KB with the longest of everything else (each step
 * carries the image repository and the health check path; the Validate step also every smoke check's path):
 * checked by test/environment-size.test.ts, enforced at synth by BluegreenFunction.
 */
export const MAX_PATH = 64;
export const MAX_REPOSITORY = 256;

/** A whole number in [min, max]; `what` says it in words ("a TCP port from 1 to 65535"). */
export const int = (min: number, max: number, what: string) =>
  z
    .int({ error: `must be ${what}` })
    .min(min, `must be ${what}`)
    .max(max, `must be ${what}`);
