/**
 * Deploy: put the new image on the idle color with the live color's capacity, then (called again by the state
 * machine's Wait → Check loop) decide whether the idle color is ready, still coming up, or failed.
 */
import { deployVerdict } from '../shared/decisions';
import type { ColorBounds } from '../shared/scaling';
import { releaseError } from '../shared/errors';
import type { Fleet, WorkflowDeps } from '../shared/ports';
import type { Color } from '../shared/release-record';
import { requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';
import { heldBounds, holdForDeploy } from './capacity';
import { allTo, observeIdle } from './switch';

export async function startDeploy(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'fleet' | 'router' | 'record' | 'now'>,
  settings: Pick<WorkflowSettings, 'scaling'> = {},
): Promise<ReleaseState> {
  const release = requireRelease(state);
  // The test listener must reach the color being released, whatever an earlier release left it on; and no
  // scaling policy may shrink either color until the release ends (every ending lets it act again).
  await Promise.all([deps.router.setTestWeights(allTo(release.idle)), deps.fleet.holdCapacity(true)]);
  // With auto scaling, both colors are held (no scale-in) and the new color starts at the live color's count now.
  const count = settings.scaling ? await holdForDeploy(release, deps, settings.scaling) : release.liveCount;
  // With migrations the revision was registered before the expand phase (which ran with it): roll out that one.
  const revision = await rollOut(
    deps.fleet,
    release.idle,
    { image: release.image, version: release.version, revision: release.revision },
    count,
    settings.scaling && heldBounds(count, settings.scaling),
  );
  const deadline = new Date(deps.now().getTime() + release.timings.deployTimeoutSeconds * 1000);
  return {
    ...state,
    release: {
      ...release,
      liveCount: count,
      revision,
      deployDeadline: deadline.toISOString(),
      deployChecks: 0,
    },
  };
}

/**
 * Puts `color` on `count` tasks of a revision that runs `image`: the given one (registered earlier), or one
 * registered now; with `bounds`, its scaling bounds in the same move. Returns the revision.
 */
export async function rollOut(
  fleet: Pick<Fleet, 'register' | 'deploy'>,
  color: Color,
  release: { readonly image: string; readonly version: string; readonly revision?: string },
  count: number,
  bounds?: ColorBounds,
): Promise<string> {
  const revision = release.revision ?? (await fleet.register(color, release.image, release.version));
  await fleet.deploy(color, revision, count, bounds);
  return revision;
}

export async function checkDeploy(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'fleet' | 'router' | 'now'>,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const { status, health } = await observeIdle(release, deps);
  const verdict = deployVerdict({
    status,
    health,
    revision: release.revision ?? '',
    count: release.liveCount,
    now: deps.now(),
    deadline: new Date(release.deployDeadline ?? 0),
  });
  const checks = (release.deployChecks ?? 0) + 1;
  switch (verdict.kind) {
    case 'failed':
      throw releaseError(
        'DeployFailed',
        `Deploy of ${release.image} to ${release.idle} failed: ${verdict.reason}.`,
      );
    case 'timeout':
      throw releaseError(
        'DeployTimeout',
        `Deploy of ${release.image} to ${release.idle} timed out after ${release.timings.deployTimeoutSeconds}s ` +
          `(${checks} checks): ${verdict.reason}.`,
      );
    default:
      return { ...state, verdict: verdict.kind, release: { ...release, deployChecks: checks } };
  }
}
