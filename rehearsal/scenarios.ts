/**
 * The rehearsal's scenarios: which image each one releases, what that image does wrong (BLUEGREEN_MISBEHAVE), how
 * traffic moves (the execution input's `strategy`), and how the release is expected to end.
 *
 *   scenario 1  release v2 (good): deploy → validate → switch → bake → finish; expect zero failed requests
 *   scenario 2  release v3 (fails real users after the switch): the alarms catch it, rollback restores v2
 *   scenario 3  release v4 (reports the wrong version): validation fails, traffic never moves
 *   scenario 4  release v5 (fails every user) as a 10% canary: only the canary's share fails before the rollback
 *   scenario 5  release v6 (100 ms slower, under every alarm) as a 25% canary: the comparison catches it
 *   scenario 6  release v7 (good) in linear 25% steps: every step judged and passed, zero failed requests
 *   scenario 7  release v8 (fails every user) as a 50% canary with sticky users: after the rollback's listener
 *               change no user reaches v8, whatever cookie it holds
 *   scenario 8  release v9 (good) with auto scaling: the load rises first and the live color scales out; the new
 *               color starts at that count, the switch fails no request, the old color keeps its count to Finish
 *   scenario 9  release v10 (good), the old color goes to 0; then, under load, the operator's bluegreen rollback
 *               brings it back cold (start, wait healthy, smoke-check, switch): v9 (or v1) serves again, 0 failed
 */
import type { ScalingSettings } from '../lambda/shared/scaling';
import type { ScalingPolicy } from './scaler';

/** Auto scaling for a scenario: the stack's `scaling` (what the workflow gets) and the local scaler's policy. */
export interface ScenarioScaling extends ScalingSettings {
  readonly policy: ScalingPolicy;
}

export interface Scenario {
  readonly id: number;
  readonly title: string;
  readonly version: string;
  readonly misbehave?: string;
  /** The execution input's `strategy` (the short form, "canary:10:4s"); absent: all at once. */
  readonly strategy?: string;
  /**
   * Group-level stickiness while traffic is split (release.analysis.stickySeconds), and sticky users: each load
   * client keeps its cookies like a browser. Absent: neither.
   */
  readonly stickySeconds?: number;
  /** At least this many load clients (users) in this scenario, whatever --concurrency says. */
  readonly minUsers?: number;
  /**
   * The scenario is played with auto scaling (a stack with config `scaling`, and the local scaler); without it,
   * none, as in every other scenario.
   */
  readonly scaling?: ScenarioScaling;
  /**
   * The load starts with `users` clients each sending one request per `paceMs`, and before the release rises by
   * --concurrency clients sending as fast as they are answered; the release starts once the live color scaled out.
   * Absent: --concurrency clients (or minUsers) from the start.
   */
  readonly risingLoad?: { readonly users: number; readonly paceMs: number };
  readonly expect: 'Released' | 'RolledBack' | 'ValidationFailed';
  /**
   * After the release (which scales the old color to 0), the operator runs `bluegreen rollback`: the cold
   * rollback (lambda/workflow/cold-rollback.ts) while the load goes on; it must put the old version back.
   */
  readonly coldRollback?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 1,
    title: 'Release v2: deploy → validate → switch → bake → finish',
    version: 'v2',
    expect: 'Released',
  },
  {
    id: 2,
    title: 'Release v3, which fails real users after the switch',
    version: 'v3',
    misbehave: 'fail-under-traffic',
    expect: 'RolledBack',
  },
  {
    id: 3,
    title: 'Release v4, which fails validation',
    version: 'v4',
    misbehave: 'wrong-version',
    expect: 'ValidationFailed',
  },
  {
    id: 4,
    title: 'Release v5, which fails every user, as a 10% canary',
    version: 'v5',
    misbehave: 'fail-under-traffic',
    strategy: 'canary:10:4s',
    expect: 'RolledBack',
  },
  {
    // 100 ms late on every request: under the rehearsal's p99 alarm (1000 ms) and the smoke checks' latency budget
    // (500 ms), caught only by comparing the colors (the new color's p95, the rehearsal's percentile, more than
    // 1.25 × the old one's and 20 ms or more above it). Both colors share one machine, so a busy machine slows both:
    // the comparison fails while the old color's p95 X is under 4 × 100 = 400 ms, and the alarm stays quiet while
    // the new color's p99 is under 1000 ms. The alarm's p99 is the tail, and a starved machine stretches a slow
    // color's tail more than the delay itself (measured: p95 440 ms against the old color's 67 ms, with 200 ms and
    // a load average of 9 on 2 cores), so the delay is kept at 100 ms: a p99 900 ms above it is needed for an alarm,
    // while on such a machine the old color's p95 stays at tens of ms, far under 400.
    id: 5,
    title: 'Release v6, 100 ms slower but under every alarm, as a 25% canary',
    version: 'v6',
    misbehave: 'slow:100',
    strategy: 'canary:25:5s',
    // A canary's requests take 100 ms more, so its share of a busy machine's requests is what limits how soon it
    // has the comparison's 100 requests (DEFAULT_POLICY.minRequests): a 25% canary and 24 users get them within the
    // step's 4 s window even beside a CPU hog (a 10% one needed extensions there).
    minUsers: 24,
    expect: 'RolledBack',
  },
  {
    id: 6,
    title: 'Release v7 in linear 25% steps, each judged against the old color',
    version: 'v7',
    // 5 s steps (4 s windows): a new color's p99 over a 2 s window of a few hundred requests is its 2nd or 3rd
    // slowest answer, which one scheduling hiccup of a cold process on a busy 2-core machine can put 20 ms above
    // the old color's (the comparison's floor); over 4 s it takes several.
    strategy: 'linear:25:5s',
    expect: 'Released',
  },
  {
    // Half of the users stick to v8 for the split; with 16 of them, all 16 landing on the old color (a release that
    // nobody used, promoted) has a chance of 1 in 65536.
    id: 7,
    title: 'Release v8, which fails every user, as a 50% canary with sticky users',
    version: 'v8',
    misbehave: 'fail-under-traffic',
    strategy: 'canary:50:4s',
    stickySeconds: 300,
    minUsers: 16,
    expect: 'RolledBack',
  },
  {
    // The live color runs its minimum (2) under 2 users reading a page every 250 ms (at most 8 requests/s: 4 per
    // task, under the target of 10). The rise (--concurrency users as fast as answered: hundreds of requests/s even
    // on a busy machine) asks for far more than the maximum, so the live color scales out to more than 2, and the
    // release deploys the new color at that count. The cooldowns are seconds, as everything in the rehearsal.
    id: 8,
    title: 'Release v9 with auto scaling, after the load rose and the live color scaled out',
    version: 'v9',
    scaling: {
      minCount: 2,
      maxCount: 4,
      policy: {
        requestsPerTaskPerSecond: 10,
        windowSeconds: 2,
        scaleOutCooldownSeconds: 2,
        scaleInCooldownSeconds: 5,
      },
    },
    risingLoad: { users: 2, paceMs: 250 },
    expect: 'Released',
  },
  {
    id: 9,
    title: 'Release v10, then roll back after the old color went cold',
    version: 'v10',
    expect: 'Released',
    coldRollback: true,
  },
];
