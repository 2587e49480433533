/**
 * Auto scaling for one rehearsal scenario: what a stack with config `scaling` has in AWS. Configuring it is the
 * stack update: each color's bounds rendered from the release record (`boundsFor`, as the template renders them,
 * so the record's `auto` gives the live color min..max and the idle one 0..0), then the local scaler's target
 * tracking acts on them (scaler.ts). Removing it is the stack update without `scaling`: the counts stay.
 */
import type { ReleaseRecordStore } from '../lambda/shared/ports';
import { COLORS, type Color } from '../lambda/shared/release-record';
import { AUTO_CAPACITY, boundsFor, type ColorBounds } from '../lambda/shared/scaling';
import type { FleetEvent, LocalFleet } from './fleet';
import type { LocalRouter } from './router';
import { LocalScaler } from './scaler';
import type { ScenarioScaling } from './scenarios';

export class AutoScaling {
  private readonly scaler: LocalScaler;

  private constructor(
    private readonly fleet: LocalFleet,
    router: LocalRouter,
    private readonly scaling: ScenarioScaling,
  ) {
    this.scaler = new LocalScaler(fleet, router, scaling.policy);
  }

  /** The stack update that gives both colors their bounds from the record. The scaler does not act yet. */
  static async configure(
    fleet: LocalFleet,
    router: LocalRouter,
    record: ReleaseRecordStore,
    scaling: ScenarioScaling,
  ): Promise<AutoScaling> {
    const { liveColor, capacity } = await record.read();
    const bounds = Object.fromEntries(
      COLORS.map((c) => [c, boundsFor(capacity?.[c] ?? AUTO_CAPACITY, c === liveColor, scaling)]),
    ) as Record<Color, ColorBounds>;
    await fleet.configureScaling(bounds);
    return new AutoScaling(fleet, router, scaling);
  }

  /**
   * Lets the scaler act, once a whole metric window has passed: its first data point holds only the traffic since
   * the scenario began (not the end of the scenario before, with other load).
   */
  async start(): Promise<void> {
    await sleep(this.scaling.policy.windowSeconds * 1000);
    this.scaler.start();
  }

  /**
   * Waits for the scaler to scale `color` out (a fleet event after `since`, its index in the fleet's log), up to
   * `timeoutMs`: the event, or undefined if it never came.
   */
  async scaledOut(color: Color, since: number, timeoutMs: number): Promise<FleetEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.fleet
        .events()
        .slice(since)
        .find((e) => e.color === color && e.what === 'scale' && e.desired > e.before);
      if (event || Date.now() > deadline) {
        return event;
      }
      await sleep(100);
    }
  }

  /** Stops the scaler and removes the scaling (a stack update without it): the counts stay as they are. */
  async remove(): Promise<void> {
    await this.scaler.stop();
    await this.fleet.configureScaling(undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
