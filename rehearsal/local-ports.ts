/**
 * The rehearsal's stand-ins for the AWS services behind the workflow's ports, all on this machine:
 * the release record as a JSON file written atomically, the in-flight lock, alarms computed from what the local
 * router forwarded, and a notifier that keeps the outcomes. The router (router.ts) and the fleet (fleet.ts)
 * are the bigger two.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type {
  Alarms,
  LockResult,
  Notifier,
  ReleaseLock,
  ReleaseOutcome,
  ReleaseRecord,
  ReleaseRecordStore,
} from '../lambda/shared/ports';
import { isColor, type Color } from '../lambda/shared/release-record';
import type { LocalRouter } from './router';

/** The release record as a JSON file: written to a temp file, fsynced, then renamed over the old one. */
export class FileReleaseRecord implements ReleaseRecordStore {
  constructor(private readonly file: string) {}

  static create(file: string, record: ReleaseRecord): FileReleaseRecord {
    const store = new FileReleaseRecord(file);
    store.save(record);
    return store;
  }

  read(): Promise<ReleaseRecord> {
    const record = JSON.parse(readFileSync(this.file, 'utf8')) as ReleaseRecord;
    if (!isColor(record.liveColor)) {
      return Promise.reject(new Error(`${this.file}: liveColor is "${String(record.liveColor)}"`));
    }
    return Promise.resolve(record);
  }

  async write(update: { liveColor: Color; image?: { color: Color; image: string } }): Promise<void> {
    const record = await this.read();
    this.save({
      liveColor: update.liveColor,
      images: update.image ? { ...record.images, [update.image.color]: update.image.image } : record.images,
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
  private held?: { owner: string; image: string; since: string; expiresAt: number };

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
}

export interface AlarmThresholds {
  readonly http5xxCount: number;
  readonly p99LatencyMs: number;
  /** The window the counts are taken over (the alarm period). */
  readonly windowMs: number;
}

/** Per-color 5xx and p99 alarms, computed from the traffic the local router forwarded. */
export class RouterAlarms implements Alarms {
  constructor(
    private readonly router: LocalRouter,
    private readonly app: string,
    private readonly thresholds: AlarmThresholds,
  ) {}

  firing(color: Color): Promise<string[]> {
    const m = this.router.metrics(color, this.thresholds.windowMs);
    const firing: string[] = [];
    if (m.errors5xx >= this.thresholds.http5xxCount) {
      firing.push(`${this.app}-${color}-5xx (${m.errors5xx} in ${this.thresholds.windowMs / 1000}s)`);
    }
    if (m.requests > 0 && m.p99Ms >= this.thresholds.p99LatencyMs) {
      firing.push(`${this.app}-${color}-p99-latency (${Math.round(m.p99Ms)} ms)`);
    }
    return Promise.resolve(firing);
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
