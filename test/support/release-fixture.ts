/** A release of v2 to green (blue live), as the steps after Prepare receive it; tests change what they need. */
import type { Release, ReleaseState } from '../../lambda/shared/release';
import { REPO } from './fake-world';
import { SETTINGS } from './run-workflow';

export function aRelease(
  revisions: { readonly before: string; readonly release: string },
  state: Partial<Omit<ReleaseState, 'release'>> = {},
): ReleaseState & { release: Release } {
  return {
    execution: 'release-1',
    ...state,
    release: {
      image: `${REPO}:v2`,
      version: 'v2',
      live: 'blue',
      idle: 'green',
      liveCount: 2,
      idleBefore: { count: 0, image: `${REPO}:v1`, revision: revisions.before },
      timings: SETTINGS.timings,
      startedAt: '2026-11-26T10:00:00Z',
      revision: revisions.release,
    },
  };
}
