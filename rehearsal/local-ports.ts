/**
 * The rehearsal's stand-ins for the AWS services behind the workflow's ports, all on this machine:
 * the release record as a JSON file written atomically, the in-flight lock, alarms computed from what the local
 * router forwarded, and a notifier that keeps the outcomes. The router (router.ts) and the fleet (fleet.ts)
 * are the bigger two.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type {
  Alarms,
  FiringAlarm,
  LockResult,
  Notifier,
  Promotion,
  ReleaseLock,
  ReleaseOutcome,
  ReleaseRecord,
  ReleaseRecordStore,
} from '../lambda/shared/ports';
import { isColor, type Color } from '../lambda/shared/release-record';
import type { RecordedCapacity } from '../lambda/shared/scaling';
import { weightsFor } from '../lambda/shared/strategy';
import type { TrafficWeights } from '../lambda/shared/traffic';
import type { LocalRouter } from './router';

/** The release record as a JSON file: written to a temp file, fsynced, then renamed over the old one. */
export class FileReleaseRecord implements ReleaseRecordStore {
  constructor(private readonly file: string) {}

  static create(file: string, record: ReleaseRecord): FileReleaseRecord {
    const store = new FileReleaseRecord(file);
    store.save(record);
    return store;
  }

  /**
   * A file without weights (written before gradual shifts) reads as all on the live color, and one without
   * capacity as both colors `auto`, as in SSM.
   */
  read(): Promise<ReleaseRecord> {
    const record = JSON.parse(readFileSync(this.file, 'utf8')) as ReleaseRecord;
    if (!isColor(record.liveColor)) {
      return Promise.reject(new Error(`${this.file}: liveColor is "${String(record.liveColor)}"`));
    }
    return Promise.resolve({
      ...record,
      weights: record.weights ?? weightsFor(100, record.liveColor),
      capacity: record.capacity ?? { blue: 'auto', green: 'auto' },
    });
  }

  /** One atomic file write of one color's bounds. */
  async writeCapacity(color: Color, capacity: RecordedCapacity): Promise<void> {
    const record = await this.read();
    this.save({ ...record, capacity: { ...record.capacity!, [color]: capacity } });
  }

  /** One atomic file write; weights absent: all on the live color, as in SSM. */
  async write(update: {
    liveColor: Color;
    image?: { color: Color; image: string };
    weights?: TrafficWeights;
  }): Promise<void> {
    const record = await this.read();
    this.save({
      liveColor: update.liveColor,
      images: update.image ? { ...record.images, [update.image.color]: update.image.image } : record.images,
      weights: update.weights ?? weightsFor(100, update.liveColor),
      capacity: record.capacity,
    });
  }

  private save(record: ReleaseRecord): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}

/** One release at a time, with a lease, released only by its owner: the DynamoDB lock's rules, in memory. */
export class MemoryReleaseLock implements ReleaseLock {
  private held?: { owner: string; image: string; since: string; expiresAt: number; promotion?: Promotion };

  acquire(owner: string, image: string, now: Date, expiresAt: Date): Promise<LockResult> {
    if (this.held && this.held.owner !== owner && this.held.expiresAt > now.getTime()) {
      return Promise.resolve({
        acquired: false,
        holder: this.held.owner,
        image: this.held.image,
        since: this.held.since,
      });
    }
    this.held = { owner, image, since: now.toISOString(), expiresAt: expiresAt.getTime() };
    return Promise.resolve({ acquired: true });
  }

  release(owner: string): Promise<void> {
    if (this.held?.owner === owner) {
      this.held = undefined;
    }
    return Promise.resolve();
  }

  holder(): Promise<{ owner: string; expiresAt: string } | undefined> {
    return Promise.resolve(
      this.held
        ? { owner: this.held.owner, expiresAt: new Date(this.held.expiresAt).toISOString() }
        : undefined,
    );
  }

  promotion(owner: string): Promise<Promotion | undefined> {
    return Promise.resolve(this.held?.owner === owner ? this.held.promotion : undefined);
  }

  /** `bluegreen promote` for the rehearsal: only while `owner` holds the lock. */
  requestPromotion(owner: string, by: string, at: Date): boolean {
    if (this.held?.owner !== owner) {
      return false;
    }
    this.held.promotion = { by, at: at.toISOString() };
    return true;
  }
}

export interface AlarmThresholds {
  readonly http5xxCount: number;
  readonly p99LatencyMs: number;
  /** The window the counts are taken over (the alarm period). */
  readonly windowMs: number;
}

/**
 * Per-color 5xx and p99 alarms, computed from the traffic the local router forwarded. Like CloudWatch's, each
 * alarm in ALARM says since when: the moment the window's traffic first crossed its threshold (the request that
 * made the 5xx count reach it; the first request over the latency threshold), kept while it stays in ALARM.
 */
export class RouterAlarms implements Alarms {
  /** Alarms in ALARM at their last evaluation: since when, and when last seen so. */
  private readonly inAlarm = new Map<string, { since: string; seenAt: number }>();

  constructor(
    private readonly router: LocalRouter,
    private readonly app: string,
    private readonly thresholds: AlarmThresholds,
  ) {}

  firing(color: Color): Promise<FiringAlarm[]> {
    const { http5xxCount, p99LatencyMs, windowMs } = this.thresholds;
    const now = Date.now();
    const m = this.router.metrics(color, windowMs, now);
    const samples = this.router.recentSamples(color, windowMs, now);
    const firing: FiringAlarm[] = [];
    const seconds = windowMs / 1000;
    if (m.errors5xx >= http5xxCount) {
      const crossed = samples.filter((s) => s.status >= 500)[http5xxCount - 1];
      firing.push(
        this.alarm(`${this.app}-${color}-5xx`, now, crossed?.at ?? now, {
          reason: `${m.errors5xx} 5xx answers in the last ${seconds}s, threshold ${http5xxCount}`,
          datapoint: `${m.errors5xx} 5xx in ${seconds}s`,
        }),
      );
    }
    if (m.requests > 0 && m.p99Ms >= p99LatencyMs) {
      const crossed = samples.find((s) => s.latencyMs >= p99LatencyMs);
      firing.push(
        this.alarm(`${this.app}-${color}-p99-latency`, now, crossed?.at ?? now, {
          reason: `p99 latency ${Math.round(m.p99Ms)} ms over the last ${seconds}s, threshold ${p99LatencyMs} ms`,
          datapoint: `p99 ${Math.round(m.p99Ms)} ms`,
        }),
      );
    }
    // An alarm that is no longer firing leaves ALARM: its next crossing starts a new "since".
    for (const name of [...this.inAlarm.keys()]) {
      if (name.startsWith(`${this.app}-${color}-`) && !firing.some((f) => f.name === name)) {
        this.inAlarm.delete(name);
      }
    }
    return Promise.resolve(firing);
  }

  /** The rehearsal's alarms are its only alarms: a user alarm is named as one of them ("<app>-green-5xx"). */
  async named(names: readonly string[]): Promise<FiringAlarm[]> {
    const all = [...(await this.firing('blue')), ...(await this.firing('green'))];
    return all.filter((a) => names.includes(a.name));
  }

  private alarm(
    name: string,
    now: number,
    crossedAt: number,
    what: { reason: string; datapoint: string },
  ): FiringAlarm {
    // Still the same spell in ALARM only if it was seen in ALARM within the last window; otherwise (not looked
    // at since, e.g. an earlier release's alarm) it entered ALARM anew when this window crossed the threshold.
    const previous = this.inAlarm.get(name);
    const since =
      previous && now - previous.seenAt <= this.thresholds.windowMs
        ? previous.since
        : new Date(crossedAt).toISOString();
    this.inAlarm.set(name, { since, seenAt: now });
    return { name, since, ...what };
  }
}

/** Keeps every published outcome (the rehearsal prints them). */
export class MemoryNotifier implements Notifier {
  readonly outcomes: ReleaseOutcome[] = [];

  publish(outcome: ReleaseOutcome): Promise<void> {
    this.outcomes.push(outcome);
    return Promise.resolve();
  }
}
