/**
 * `npm start`: the local rehearsal. Plays the three scenarios and prints a table per scenario.
 * Options: --scenario N (repeatable), --bake SECONDS, --interval SECONDS, --concurrency N, --report PATH
 * (writes PATH.json and PATH.html; default rehearsal-report), --port N and --test-port N (the local load
 * balancer; default 8080 and 9000), --approve-after SECONDS (turns on the manual gate and approves each release
 * that long after it starts waiting), --migrations (a throwaway PostgreSQL, and expand / backfill / contract in
 * every release). Ctrl-C stops everything it started.
 */
import './quiet';
import { parseArgs } from 'node:util';
import { rehearse, type RehearsalResult } from './rehearse';
import { scenarioReport, writeReport } from './report';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      bake: { type: 'string' },
      interval: { type: 'string' },
      concurrency: { type: 'string' },
      report: { type: 'string', default: 'rehearsal-report' },
      port: { type: 'string', default: '8080' },
      'test-port': { type: 'string', default: '9000' },
      'approve-after': { type: 'string' },
      migrations: { type: 'boolean', default: false },
    },
  });
  const number = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await rehearse({
    scenarios: values.scenario?.map(Number),
    bakeSeconds: number(values.bake),
    watchIntervalSeconds: number(values.interval),
    concurrency: number(values.concurrency),
    productionPort: number(values.port),
    testPort: number(values['test-port']),
    approveAfterSeconds: number(values['approve-after']),
    migrations: values.migrations,
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
  const files = writeReport(values.report, result.scenarios.map(scenarioReport), result.session);
  console.log(`\nreport: ${files.json}, ${files.html}`);
  return result.scenarios.every((s) => s.passed) && !(result.session?.checked && !result.session.survived)
    ? 0
    : 1;
}

function print(result: RehearsalResult): void {
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
  console.log('');
  console.log(
    'scenario | expected | outcome | live after | requests | failed | p50/p99 before | p50/p99 at switch | switch | time to restore',
  );
  console.log('--- | --- | --- | --- | --- | --- | --- | --- | --- | ---');
  for (const s of result.scenarios) {
    const l = s.load;
    console.log(
      [
        `${s.scenario.id} ${s.scenario.version}`,
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
    console.error(e.name === 'PortInUse' ? `bluegreen rehearsal: ${e.message} (--port, --test-port)` : e);
    process.exit(2);
  },
);
