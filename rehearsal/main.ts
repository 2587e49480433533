/**
 * `npm start`: the local rehearsal. Plays the scenarios (rehearsal/scenarios.ts) and prints a table per scenario.
 * `npm start -- --help` lists the options (rehearsal/options.ts); a bad one is one line on stderr and exit 2, before
 * anything starts.
 * Ctrl-C stops everything it started.
 */
import './quiet';
import { ConfigError } from '../lib/config';
import { helpText, parseRehearsalArgs, RehearsalUsageError } from './options';
import type { RehearsalResult } from './rehearse';
import { rehearsalDocument, writeReport } from './report';

async function main(): Promise<number> {
  const parsed = parseRehearsalArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(helpText());
    return 0;
  }
  const { report, ...options } = parsed;
  // Loaded once the options are good: --help and a bad option answer at once, without loading the app and the steps.
  const { rehearse } = await import('./rehearse');
  const result = await rehearse({
    ...options,
    onCleanup: (cleanup) => {
      // Ctrl-C (or a stop from outside) at any moment: stop every process and free every port, then leave.
      const stop = (signal: NodeJS.Signals) => {
        console.log(`\n${signal}: stopping the sample apps, the load balancer and Redis...`);
        void cleanup().finally(() => process.exit(130));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  });
  print(result);
  const files = writeReport(report, rehearsalDocument(result));
  console.log(`\nreport: ${files.json}, ${files.html}`);
  return result.scenarios.every((s) => s.passed) && !(result.session?.checked && !result.session.survived)
    ? 0
    : 1;
}

function print(result: RehearsalResult): void {
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
  console.log('');
  console.log(
    'scenario | traffic | expected | outcome | live after | requests | failed | p50/p99 before | p50/p99 at switch | switch | time to restore',
  );
  console.log('--- | --- | --- | --- | --- | --- | --- | --- | --- | --- | ---');
  for (const s of result.scenarios) {
    const l = s.load;
    console.log(
      [
        `${s.scenario.id} ${s.scenario.version}`,
        s.scenario.strategy ?? 'all-at-once',
        s.scenario.expect,
        `${s.passed ? 'OK' : 'UNEXPECTED'} ${s.outcome}`,
        s.liveAfter,
        l.requests,
        l.failed,
        `${ms(l.p50BeforeMs)} / ${ms(l.p99BeforeMs)}`,
        l.p50SwitchMs === undefined ? '-' : `${ms(l.p50SwitchMs)} / ${ms(l.p99SwitchMs)}`,
        ms(s.switchMs),
        l.restoreMs === undefined ? '-' : `${(l.restoreMs / 1000).toFixed(2)} s`,
      ].join(' | '),
    );
  }
  if (result.session) {
    console.log('');
    console.log(
      `session (${result.session.note}): ${result.session.checked ? (result.session.survived ? 'still valid' : 'LOST') : 'not checked'}`,
    );
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(oneLine(e) ?? e);
    process.exit(2);
  },
);

/** The errors a user can fix from the command line, as one line; undefined for a bug (printed with its stack). */
function oneLine(e: Error): string | undefined {
  if (e instanceof RehearsalUsageError) {
    return `bluegreen rehearsal: ${e.message}`;
  }
  if (e.name === 'PortInUse') {
    return `bluegreen rehearsal: ${e.message} (--port, --test-port)`;
  }
  if (e instanceof ConfigError) {
    // The rehearsal's own settings, made from the options (rehearse.ts): not a file of the user's.
    return `bluegreen rehearsal: the options make an invalid release: ${e.problems.join('; ')}`;
  }
  return undefined;
}
