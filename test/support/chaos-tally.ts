/** The chaos runs' outcome counts: per ending, and per kind of event what the releases it hit ended as. */
import { HOOK_STATES } from '../../lambda/shared/state-names';
import type { ChaosRun, EventKind } from './chaos';

/** One line per event kind and per ending: how often, and what the releases ended as. */
export class Tally {
  runs = 0;
  readonly endings = new Map<string, number>();
  readonly byEvent = new Map<EventKind, Map<string, number>>();
  unhealthyAfterStop = 0;
  /** The releases with the lifecycle hooks: their endings, and in how many of them each hook state was entered. */
  readonly withHooks = new Map<string, number>();
  readonly hookStates = new Map<string, number>();

  add(run: ChaosRun): void {
    this.runs += 1;
    bump(this.endings, run.ending);
    if (run.hooks) {
      bump(this.withHooks, run.ending);
      for (const state of new Set(run.result.states.filter((s) => HOOK_STATES.includes(s as never)))) {
        bump(this.hookStates, state);
      }
    }
    for (const kind of new Set(run.fired)) {
      const m = this.byEvent.get(kind) ?? new Map<string, number>();
      this.byEvent.set(kind, m);
      bump(m, run.ending);
    }
    this.unhealthyAfterStop += run.unhealthyAfterStop ? 1 : 0;
  }

  report(): string {
    const list = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
    const lines = [`${this.runs} releases; endings: ${list(this.endings)}`];
    for (const [kind, m] of [...this.byEvent].sort()) {
      lines.push(`  ${kind} (${[...m.values()].reduce((a, b) => a + b, 0)} releases): ${list(m)}`);
    }
    const hooked = [...this.withHooks.values()].reduce((a, b) => a + b, 0);
    lines.push(`  with lifecycle hooks (${hooked} releases): ${list(this.withHooks)}`);
    lines.push(`    hook states entered (releases): ${list(this.hookStates)}`);
    lines.push(
      `  stopped, timed out or failed without its own ending, traffic left on a color not healthy (reported): ` +
        `${this.unhealthyAfterStop}`,
    );
    return lines.join('\n');
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
