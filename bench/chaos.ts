/**
 * `npm run chaos [-- --runs N] [-- --seed S]`: N (default 1,000) randomized releases in a world that changes under
 * the workflow (test/support/chaos.ts), each non-SUCCEEDED one followed by the Stopped step; prints the endings
 * and, per kind of event, what the releases it hit ended as. Exits 1 with the seed and the (shrunk)
 * counterexample on any violation of the invariant.
 */
import '../rehearsal/quiet';
import fc from 'fast-check';
import { runChaos, scenarios } from '../test/support/chaos';
import { Tally } from '../test/support/chaos-tally';

function option(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

async function main(): Promise<void> {
  const runs = option('runs') ?? 1000;
  const seed = option('seed') ?? Date.now() % 2 ** 31;
  /** Count violations and go on (outcome counts over all runs) instead of stopping at the first one. */
  const keepGoing = process.argv.includes('--keep-going');
  const violations: string[] = [];
  const tally = new Tally();
  const started = Date.now();
  console.log(`chaos: ${runs} releases, seed ${seed}`);
  const details = await fc.check(
    fc.asyncProperty(scenarios(), async (scenario) => {
      const run = await runChaos(scenario);
      if (keepGoing && run.violations.length > 0) {
        violations.push(`${run.violations.join('; ')} (ended ${run.ending}) in ${JSON.stringify(scenario)}`);
      } else if (run.violations.length > 0) {
        throw new Error(
          `${run.violations.join('; ')} (ended ${run.ending}: ${run.result.error ?? ''} ${run.result.cause ?? ''}; ` +
            `states ${run.result.states.join(' → ')})`,
        );
      }
      tally.add(run);
      if (tally.runs % 100 === 0) {
        console.log(`  ${tally.runs} releases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }),
    { numRuns: runs, seed },
  );
  console.log(tally.report());
  if (violations.length > 0) {
    console.error(`${violations.length} releases violated the invariant; the first ones:`);
    violations.slice(0, 5).forEach((v) => console.error(`  ${v}`));
    process.exitCode = 1;
  }
  console.log(`${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (details.failed) {
    console.error(fc.defaultReportMessage(details));
    console.error(String(details.errorInstance));
    console.error(`Re-run: npm run chaos -- --runs ${runs} --seed ${seed}`);
    process.exit(1);
  }
}

main().then(
  // Exit now: aws-local-stepfunctions leaves each stopped execution's state timeout timer (TimeoutSeconds, up to
  // minutes) running, which would otherwise keep the process alive for minutes after the last release.
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
