/**
 * `bluegreen rollback` when the previous version's color went cold (0 tasks: the release that replaced it scaled it
 * down): bluegreen rollback's hook (rollback.ts) sends here what it would refuse as NotWarm for that reason alone.
 * The core is lambda/workflow/cold-rollback.ts, run with the workflow's own adapters (session.ports()): under the
 * release lock, the cold color back on the revision it ran with the live color's count, waited for (a deadline),
 * smoke-checked through the test listener, then all production traffic moved to it with the switch's own move.
 *
 * The window counts from when the record made the live color live (the live-color parameter's LastModifiedDate,
 * whatever wrote it); the release history gives it only when the record cannot. From the history: the version the smoke checks expect (the
 * previous release's input; unknown: the version check is skipped, and the output says so).
 */
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { shortRevision } from '../../lambda/shared/decisions';
import { BluegreenError } from '../../lambda/shared/errors';
import { recordParameterNames } from '../../lambda/shared/release-record';
import { coldRollback } from '../../lambda/workflow/cold-rollback';
import {
  planColdRollback,
  type ColdProgress,
  type ColdRollbackDeps,
  type ColdRollbackSettings,
} from '../../lambda/workflow/cold-rollback-plan';
import {
  coldValidationState,
  type ColdValidation,
  type ValidateColor,
} from '../../lambda/workflow/cold-validate';
import { colorName, confirm, EXIT, paint, refused, type CliIo, type ExitCode } from '../io';
import type { AwsSession } from '../target';
import type { StatusReport } from './status';

export interface ColdRollbackOptions {
  readonly yes?: boolean;
  readonly reason?: string;
  readonly json?: boolean;
  /** Hours: the last release must have ended within them (default: release.coldRollbackWindowHours). */
  readonly within?: number;
  /** Seconds the cold color has to become healthy (default: release.deployTimeoutSeconds). */
  readonly timeout?: number;
}

/** How many finished releases the window and the version are looked for in (newest first). */
const HISTORY_DEPTH = 20;

/**
 * What bluegreen rollback refuses as NotWarm only because the idle color is at 0 (no release in flight, no drift,
 * no contract in the way): a cold rollback can bring it back.
 */
export function wentCold(report: StatusReport): boolean {
  const to = report.rollback.to;
  return !report.inFlight && !report.drift && report.colors[to].tasks.desired === 0;
}

export async function rollbackCold(
  session: AwsSession,
  io: CliIo,
  options: ColdRollbackOptions,
  report: StatusReport,
): Promise<ExitCode> {
  const target = await session.target();
  const stack = target.coldRollback;
  const to = report.rollback.to;
  if (!stack) {
    // rollback.ts only comes here with the stack's output.
    throw new Error(`stack ${target.app} has no cold rollback settings`);
  }
  const settings: ColdRollbackSettings = {
    appName: target.app,
    ...(target.scaling ? { scaling: target.scaling } : {}),
    recordParameter: recordParameterNames(target.app).liveColor,
    windowHours: options.within ?? stack.windowHours,
    timeoutSeconds: options.timeout ?? stack.timeoutSeconds,
    pollSeconds: stack.pollSeconds,
    unit: report.unit,
  };
  const ports = await session.ports();
  const deps: ColdRollbackDeps = {
    ...ports,
    validateColor: invokeValidate(session, stack.validateFunctionArn),
    ...(ports.migrationRecord ? { migrationRecord: ports.migrationRecord } : {}),
    now: () => io.now(),
    sleep: (ms) => io.sleep(ms),
  };
  const liveImage = report.colors[report.liveColor].image;
  const coldImage = report.colors[to].image;
  const past = await releasesOf(session, target.stateMachineArn, [liveImage, coldImage]);
  const liveRelease = past.find((r) => r.image === liveImage);
  const previous = past.find(
    (r) => r.image === coldImage && (!liveRelease || r.stop.getTime() <= liveRelease.stop.getTime()),
  );
  const liveSince = liveRelease?.stop;
  const plan = await named(() => planColdRollback(deps, settings, { liveSince }));
  const unit = report.unit;
  const question =
    `${to} went cold (0 ${unit}s). Start ${plan.count} ${unit}${plan.count === 1 ? '' : 's'} of ${plan.image} ` +
    `(${shortRevision(plan.revision)}) on ${to}, wait up to ${settings.timeoutSeconds} s for them to be healthy, ` +
    `smoke-check them through the test listener and move all production traffic from ${plan.from} ` +
    `(${plan.fromImage}) to ${to}?`;
  await confirm(io, options, question);
  const confirmedAt = io.now();
  const me = await session.caller();
  const owner = `cold-rollback-${confirmedAt.toISOString().replace(/[-:.]/g, '')}`;
  const print = (p: ColdProgress) => {
    if (!options.json) {
      io.out(`${paint(io, 'dim', p.at.toISOString().slice(11, 19))} ${p.line}`);
    }
  };
  if (!options.json && !previous?.version) {
    io.out(
      `note: the release that ran ${coldImage} was not found in the last ${HISTORY_DEPTH} releases: its version is ` +
        'unknown, so the smoke checks do not check it',
    );
  }
  // Ctrl-C while it runs: the core stops, puts the color back and frees the lock (then the command exits 1).
  const stop = new AbortController();
  const onInterrupt = () => {
    io.err('interrupted: putting the cold color back and freeing the lock...');
    stop.abort();
  };
  process.once('SIGINT', onInterrupt);
  const result = await named(() =>
    coldRollback(
      {
        signal: stop.signal,
        owner,
        by: me,
        ...(options.reason ? { reason: options.reason } : {}),
        confirmedAt,
        plan,
        liveSince,
        ...(previous?.version ? { version: previous.version } : {}),
      },
      deps,
      settings,
      print,
    ),
  ).finally(() => process.off('SIGINT', onInterrupt));
  for (const warning of result.warnings) {
    io.err(`warning: the rollback is done, but ${warning}`);
  }
  const t = result.timings;
  const took =
    `restored in ${(t.restoreMs / 1000).toFixed(1)} s (scale-up ${(t.scaleUpMs / 1000).toFixed(1)} s, smoke ` +
    `${(t.smokeMs / 1000).toFixed(1)} s, switch ${t.switchMs} ms)`;
  if (options.json) {
    io.out(
      JSON.stringify({
        rolledBack: true,
        cold: true,
        release: owner,
        liveColor: result.to,
        image: result.image,
        revision: result.revision,
        count: result.count,
        version: result.version ?? null,
        checks: result.checks,
        seconds: {
          restore: t.restoreMs / 1000,
          scaleUp: t.scaleUpMs / 1000,
          smoke: t.smokeMs / 1000,
          switch: t.switchMs / 1000,
        },
        message: result.message,
      }),
    );
  } else {
    io.out(
      `${paint(io, 'green', 'Rolled back')} (cold): ${colorName(io, result.to)} (${result.image}) serves all ` +
        `production traffic; ${took}.`,
    );
    io.out(`  ${result.message}`);
  }
  return EXIT.ok;
}

/**
 * The cold color validated by the stack's Validate Lambda: it runs in the VPC, where the test listener admits it
 * (this machine cannot reach it), with the test token from the secret. Its ValidationFailed is the checks failing;
 * any other error of the function, or of the invocation, fails the rollback (which puts the color back).
 */
function invokeValidate(session: AwsSession, functionArn: string): ValidateColor {
  return async (target) => {
    // One attempt: the function's own checks take up to its timeout, and a retry would run them twice.
    const lambda = new LambdaClient({ ...session.config, maxAttempts: 1 });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionArn,
        Payload: new TextEncoder().encode(JSON.stringify(coldValidationState(target, new Date()))),
      }),
    );
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      const error = parseJson(text) as { errorType?: unknown; errorMessage?: unknown };
      const message = typeof error.errorMessage === 'string' ? error.errorMessage : text.slice(0, 500);
      if (error.errorType === 'ValidationFailed') {
        return { passed: false, checks: [], problems: [message] };
      }
      throw new BluegreenError(
        'ColdRollbackFailed',
        `The Validate Lambda ${functionArn} failed (${typeof error.errorType === 'string' ? error.errorType : out.FunctionError}): ${message}`,
      );
    }
    const state = parseJson(text) as { release?: { validation?: { checks?: ColdValidation['checks'] } } };
    return { passed: true, checks: state.release?.validation?.checks ?? [], problems: [] };
  };
}

function parseJson(text: string): object {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** A refusal or failure of the core, as the CLI reports it (exit 1, its name and cause). */
async function named<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (e) {
    if (e instanceof BluegreenError) {
      throw refused(e.name, e.message);
    }
    throw e;
  }
}

interface PastRelease {
  readonly image: string;
  readonly version?: string;
  readonly stop: Date;
}

/**
 * The finished releases that went live (SUCCEEDED), newest first: each one's image, version (the input's, or
 * the tag as the workflow takes it) and end; read until one of each of `images` was found (in that order).
 */
async function releasesOf(
  session: AwsSession,
  stateMachineArn: string,
  images: readonly string[],
): Promise<PastRelease[]> {
  const listed = await session.sfn.send(
    new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: HISTORY_DEPTH }),
  );
  const out: PastRelease[] = [];
  for (const item of listed.executions ?? []) {
    const d = await session.sfn.send(new DescribeExecutionCommand({ executionArn: item.executionArn }));
    const input = parseInput(d.input);
    const stop = d.stopDate ?? item.stopDate;
    if (typeof input.image === 'string' && stop) {
      out.push({ image: input.image, version: versionOf(input), stop });
    }
    const live = out.findIndex((r) => r.image === images[0]);
    if (live >= 0 && out.slice(live).some((r) => r.image === images[1])) {
      break;
    }
  }
  return out;
}

function parseInput(text: string | undefined): { image?: unknown; version?: unknown } {
  try {
    const parsed = JSON.parse(text ?? '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** The version a release reported: its input's `version`, or the image's tag (as the workflow takes it). */
function versionOf(input: { image?: unknown; version?: unknown }): string | undefined {
  if (typeof input.version === 'string') {
    return input.version;
  }
  const image = typeof input.image === 'string' ? input.image : '';
  const at = image.indexOf('@');
  if (at >= 0) {
    return image.slice(at + 1);
  }
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}
