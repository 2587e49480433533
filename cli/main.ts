/**
 * bluegreen: the operator and pipeline CLI. `npx bluegreen --help` lists the commands; every command has its
 * own --help. Exit codes: 0 done; 1 the release failed, rolled back or was refused; 2 usage or AWS access errors.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { answerGate } from './commands/approve';
import { history } from './commands/history';
import { promote } from './commands/promote';
import { release } from './commands/release';
import { report as releaseReport } from './commands/report';
import { rollback } from './commands/rollback';
import { status } from './commands/status';
import { CliError, EXIT, paint, processIo, type CliIo, type ExitCode } from './io';
import { AwsSession, resolveApp, sdkProfileRegion, type GlobalOptions, type ProfileRegion } from './target';

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function run(
  argv: readonly string[],
  io: CliIo,
  session: (
    app: string,
    config: { region?: string; profile?: string },
    stateMachine?: string,
  ) => AwsSession = (app, config, stateMachine) => new AwsSession(app, config, stateMachine),
  profileRegion: ProfileRegion = sdkProfileRegion,
): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = new Command('bluegreen')
    .description('Blue/green releases on AWS: start, follow, approve, roll back, and see what is live.')
    .addOption(
      new Option('--app <name>', 'app name (default: BLUEGREEN_APP, or appName in ./bluegreen.config.json)'),
    )
    .addOption(
      new Option(
        '--config <file>',
        'config file to read appName and aws.region from (default: BLUEGREEN_CONFIG, or ./bluegreen.config.json)',
      ),
    )
    .addOption(
      new Option(
        '--region <region>',
        "AWS region (default: AWS_REGION, the profile's region, then aws.region in the config file)",
      ),
    )
    .addOption(
      new Option('--profile <profile>', 'AWS profile from the shared config files (default: AWS_PROFILE)'),
    )
    .addOption(
      new Option('--state-machine <arn>', "release state machine ARN (default: the app stack's output)"),
    )
    .option('--json', 'machine-readable JSON output with stable field names (no colors, no spinner)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();
  const open = async (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    const { app, region } = await resolveApp(g, io, profileRegion, (line) => io.err(line));
    return {
      s: session(app, { region, profile: g.profile ?? undefined }, g.stateMachine),
      json: g.json === true,
    };
  };

  program
    .command('release')
    .description(
      'start a release of an image; with --wait, follow it to the end (exit 0 live, 1 failed or rolled back)',
    )
    .requiredOption('--image <ref>', 'image to release: <repository>:<tag> or <repository>@sha256:<digest>')
    .option('--version <version>', 'version the app reports (default: the tag)')
    .option(
      '--strategy <strategy>',
      'how traffic moves: all-at-once, canary:<percent>:<bake> or linear:<step percent>:<bake>, bake in s or m, ' +
        'e.g. canary:10:5m, linear:25:2m (default: release.strategy in the config)',
    )
    .option('--dry-run', 'analyse each shift step and report its verdict, but act on none')
    .option('--wait', 'follow the release state by state until it ends')
    .option(
      '--timeout <minutes>',
      'stop following after this long (default: the state machine timeout + 5)',
      positive,
    )
    .action(
      async (
        opts: {
          image: string;
          version?: string;
          strategy?: string;
          dryRun?: boolean;
          wait?: boolean;
          timeout?: number;
        },
        cmd: Command,
      ) => {
        const { s, json } = await open(cmd);
        code = await release(s, io, { ...opts, json });
      },
    );

  program
    .command('status')
    .description(
      'what is live: record vs listener (drift), image, tasks and health per color, rollback readiness, release in flight (with its shift step, split and verdicts)',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const { s, json } = await open(cmd);
      await status(s, io, json);
    });

  program
    .command('rollback')
    .description(
      'move production back to the other color now (stops a release during its bake or its gradual shift); a color that went cold is started, checked and then switched to',
    )
    .option('--yes', 'do not ask for confirmation (needed when not on a terminal)')
    .option(
      '--reason <text>',
      'why (goes into the execution, the record of the outcome and the notification)',
    )
    .option(
      '--within <hours>',
      'a color that went cold is brought back only if the last release ended within this many hours (default: release.coldRollbackWindowHours)',
      positive,
    )
    .option(
      '--timeout <seconds>',
      'how long a color that went cold has to become healthy (default: release.deployTimeoutSeconds)',
      positive,
    )
    .action(
      async (opts: { yes?: boolean; reason?: string; within?: number; timeout?: number }, cmd: Command) => {
        const { s, json } = await open(cmd);
        code = await rollback(s, io, { ...opts, json });
      },
    );

  program
    .command('promote')
    .description(
      'skip the remaining steps of the gradual shift in flight: the next analysis moves all production traffic to the new color',
    )
    .option('--yes', 'do not ask for confirmation (needed when not on a terminal)')
    .action(async (opts: { yes?: boolean }, cmd: Command) => {
      const { s, json } = await open(cmd);
      code = await promote(s, io, { ...opts, json });
    });

  program
    .command('approve')
    .description('let the release waiting at the manual gate switch traffic')
    .option('--comment <text>', 'a note that goes with the approval')
    .option('--release <name>', 'only if this is the release waiting (guards against approving another one)')
    .action(async (opts: { comment?: string; release?: string }, cmd: Command) => {
      const { s, json } = await open(cmd);
      code = await answerGate(
        s,
        io,
        { approve: true, comment: opts.comment },
        { json, release: opts.release },
      );
    });

  program
    .command('reject')
    .description('stop the release waiting at the manual gate: it aborts and traffic stays where it is')
    .option('--reason <text>', 'why (the release ends with error Rejected and this cause)')
    .option('--release <name>', 'only if this is the release waiting')
    .action(async (opts: { reason?: string; release?: string }, cmd: Command) => {
      const { s, json } = await open(cmd);
      code = await answerGate(
        s,
        io,
        { approve: false, reason: opts.reason },
        { json, release: opts.release },
      );
    });

  program
    .command('history')
    .description('recent releases: start, duration, outcome, image, who started them')
    .option('--limit <n>', 'how many (1-100)', limit, 10)
    .action(async (opts: { limit: number }, cmd: Command) => {
      const { s, json } = await open(cmd);
      code = await history(s, io, { limit: opts.limit, json });
    });

  program
    .command('report')
    .description(
      'what happened in a release (default: the latest): states and times, who started and approved it, every verdict with its threshold, traffic per color from CloudWatch; writes <release>.html',
    )
    .argument('[release]', 'the release (its execution name, as bluegreen history shows it, or its ARN)')
    .option('--out <file>', 'where to write the HTML report (default: <release>.html)')
    .action(async (name: string | undefined, opts: { out?: string }, cmd: Command) => {
      const { s, json } = await open(cmd);
      code = await releaseReport(s, io, { release: name, out: opts.out, json });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    return report(e, io, program.opts<GlobalOptions>().json === true);
  }
}

function report(e: unknown, io: CliIo, json: boolean): ExitCode {
  if (e instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  const error = e as Error;
  const code = e instanceof CliError ? e.exitCode : EXIT.usage;
  const message = e instanceof CliError ? error.message : `${awsHint(error)}${error.message}`;
  if (json) {
    io.out(JSON.stringify({ error: error.name, message, ...(e instanceof CliError ? e.details : {}) }));
  } else {
    io.err(`${paint(io, 'red', error.name)}: ${message}`);
  }
  return code;
}

/** AWS errors exit 2; credentials and permission problems get a hint on where to look. */
function awsHint(error: Error): string {
  if (/CredentialsProviderError|ExpiredToken|UnrecognizedClient|InvalidClientTokenId/.test(error.name)) {
    return 'No usable AWS credentials (set AWS_PROFILE or pass --profile, or log in with aws sso login): ';
  }
  if (/AccessDenied|UnauthorizedOperation/.test(error.name)) {
    return 'AWS refused the call (the README lists the permissions each command needs): ';
  }
  return 'AWS call failed: ';
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('must be a positive number');
  }
  return n;
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new InvalidArgumentError('must be a whole number from 1 to 100');
  }
  return n;
}

if (require.main === module) {
  // The AWS SDK warns on Node 20 (8 lines, before the CLI's own output) that its releases after January 2027 will
  // need Node 22; the README says which Node versions bluegreen supports. Only that warning is turned off (the
  // SDK's own opt-out, read when the first client is made); every other warning still shows.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void run(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
