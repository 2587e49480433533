/**
 * What a failed branch of the "Bake and production hook" Parallel state knew, carried in its Cause.
 *
 * Step Functions gives a Parallel state's Catch only the failed branch's error and cause: the state each branch
 * built (the production hook's answers in `release.hooks`, the bake's progress in `release.watch`) is lost, and
 * Roll back would get the state from before the Parallel. So the failing branch ends in a Pass state that writes
 * its cause as the readable sentence, then CARRIED_MARKER with the part of the release it changed, then that part
 * as JSON (States.JsonToString), and a Fail state with that error and cause (lib/constructs/hook-phase.ts). Roll
 * back (`takeCarried`, first thing) merges the part back into the release and strips it from the cause, so the
 * outcome's cause stays a sentence.
 *
 * The branch that did not fail was stopped by Step Functions and carries nothing: its part of the release is the
 * one from before the Parallel (for the bake: its progress at the switch).
 */
import type { Release, ReleaseState } from './release';

/** The parts of the release a branch of the Parallel changes, and may carry. */
export const CARRIED_PARTS = ['hooks', 'watch'] as const;
export type CarriedPart = (typeof CARRIED_PARTS)[number];

/**
 * Between the readable cause and the carried JSON: " [bluegreen carried release.hooks] " (no character that
 * States.Format would need escaped).
 */
export function carriedMarker(part: CarriedPart): string {
  return ` [bluegreen carried release.${part}] `;
}

/** The cause with `part`'s value carried after it (what the Pass state builds; the tests' way to build one). */
export function withCarried(cause: string, part: CarriedPart, value: unknown): string {
  return `${cause}${carriedMarker(part)}${JSON.stringify(value)}`;
}

/**
 * The readable cause and the carried part, if the cause carries one (else the cause as it is). A carried part
 * that is not valid JSON of its shape is dropped all the same: the cause never shows it.
 */
export function splitCarried(cause: string): {
  readonly cause: string;
  readonly carried?: { readonly part: CarriedPart; readonly value: unknown };
} {
  let first: number | undefined;
  for (const part of CARRIED_PARTS) {
    const marker = carriedMarker(part);
    // The readable part may quote a hook's summary holding the marker's text: the first marker whose rest is
    // valid JSON of the part's shape is the Pass state's.
    for (let at = cause.indexOf(marker); at >= 0; at = cause.indexOf(marker, at + 1)) {
      first = Math.min(first ?? at, at);
      const value = parse(cause.slice(at + marker.length));
      if (part === 'hooks' ? Array.isArray(value) : isObject(value)) {
        return { cause: cause.slice(0, at), carried: { part, value } };
      }
    }
  }
  return { cause: first === undefined ? cause : cause.slice(0, first) };
}

/**
 * The state Roll back works on: the carried part merged into the release (it is newer than the release from
 * before the Parallel), and the cause without it. A state whose failure carries nothing is returned as it is.
 */
export function takeCarried(state: ReleaseState): ReleaseState {
  if (!state.failure || typeof state.failure.Cause !== 'string') {
    return state;
  }
  const { cause, carried } = splitCarried(state.failure.Cause);
  if (cause === state.failure.Cause) {
    return state;
  }
  const failure = { ...state.failure, Cause: cause };
  if (!carried || !state.release) {
    return { ...state, failure };
  }
  const release: Release = { ...state.release, [carried.part]: carried.value };
  return { ...state, release, failure };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
