/**
 * What a release report says, for a real release (`bluegreen report`, built from Step Functions history and
 * CloudWatch) and for a rehearsal scenario (`npm start`) alike: one model, one renderer (report/html.ts).
 * Plain JSON: `bluegreen report --json` prints it as is.
 */
import type { Color } from '../lambda/shared/release-record';

/** Every time is an ISO-8601 string; the renderer draws every chart of one release on one time axis. */
export interface ReleaseReport {
  readonly app: string;
  /** The release id (the execution's name) or the rehearsal scenario's title. */
  readonly release: string;
  readonly title: string;
  readonly image?: string;
  readonly version?: string;
  /** The execution's status (SUCCEEDED, FAILED, ABORTED, TIMED_OUT, RUNNING) or the rehearsal's outcome. */
  readonly status: string;
  /** What the release published as its outcome (SUCCEEDED, ROLLED_BACK, ABORTED...), when it ended. */
  readonly outcome?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly startedBy?: string;
  /** The manual gate's answer, or `bluegreen promote`'s, with who gave it. */
  readonly approvals: readonly { readonly by: string; readonly at: string; readonly what: string }[];
  /** How traffic moved (all at once, canary 10% ..., linear ...). */
  readonly strategy?: string;
  readonly colors: { readonly from: Color; readonly to: Color };
  /** Every state entered, in order, with its exit (absent while it runs) and, for a failed one, its error. */
  readonly states: readonly ReportState[];
  /** Every verdict the release reached, in order: smoke and health checks, hooks, bake checks, analysis. */
  readonly verdicts: readonly ReportVerdict[];
  /** Production listener weights over time (a step function: each holds until the next). */
  readonly weights: readonly { readonly at: string; readonly blue: number; readonly green: number }[];
  /** Per-color traffic over the release's window. */
  readonly traffic?: ReportTraffic;
  /** When the release rolled back or a check failed after traffic moved. */
  readonly timeToDetectMs?: number;
  readonly timeToRestoreMs?: number;
  /** Extra facts shown in the summary table (the rehearsal's expected outcome, load figures...). */
  readonly facts?: readonly { readonly label: string; readonly value: string; readonly good?: boolean }[];
  /** Where a figure could not be had (metrics not readable, history cut short), said plainly. */
  readonly gaps?: readonly string[];
}

export interface ReportState {
  readonly name: string;
  readonly enteredAt: string;
  readonly exitedAt?: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface ReportVerdict {
  readonly at: string;
  /** smoke, health, hook, bake, analysis, alarm, approval, migration */
  readonly kind: string;
  /** What was judged: "GET /health", "p99 latency", "beforeDeploy hook"... */
  readonly name: string;
  readonly value: string;
  readonly threshold: string;
  readonly passed: boolean;
  /** The state it came from. */
  readonly state?: string;
}

/** Buckets of `bucketSeconds` (60 from CloudWatch, 0.25 in the rehearsal), starting at `at`. */
export interface ReportTraffic {
  readonly bucketSeconds: number;
  /** Where the numbers come from ("CloudWatch AWS/ApplicationELB per target group", "local load balancer"). */
  readonly source: string;
  readonly buckets: readonly TrafficBucket[];
}

export interface TrafficBucket {
  readonly at: string;
  readonly color: Color;
  readonly requests: number;
  /** 5xx answers and failed connections. */
  readonly errors: number;
  /** Absent when the bucket had no request. */
  readonly p99Ms?: number;
}

/** A file of one or more reports (the rehearsal writes one per scenario). */
export interface ReportDocument {
  readonly title: string;
  readonly generatedAt: string;
  readonly reports: readonly ReleaseReport[];
}
