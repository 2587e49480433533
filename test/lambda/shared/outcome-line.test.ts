/**
 * The one line chat shows per published outcome. The outcomes come from the real workflow (synthesized ASL, real
 * handlers, in-memory AWS) and the real step functions wherever they can, so a change in how a cause is worded
 * shows up here as a worse line, not as silence.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseOutcome } from '../../../lambda/shared/ports';
import { OUTCOME_LINE_MAX, outcomeLine, truncate, versionOf } from '../../../lambda/shared/outcome-line';
import { compareColors, type AnalysisPolicy } from '../../../lambda/shared/analysis';
import { stopped } from '../../../lambda/workflow/conclude';
import { FakeWorld, REPO, type Behaviour } from '../../support/fake-world';
import { ANALYSIS, SETTINGS, runRelease } from '../../support/run-workflow';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
const CANARY = { type: 'canary', percent: 10, bakeSeconds: 120 };

/** Every outcome the release published, in order. */
async function published(
  behaviour: Behaviour,
  input: Record<string, unknown> = {},
  options: Parameters<typeof runRelease>[2] = {},
  plan?: ConstructorParameters<typeof FakeWorld>[1],
): Promise<ReleaseOutcome[]> {
  const world = new FakeWorld(V1, plan);
  world.behaviours.set(V2, behaviour);
  await runRelease(world, { image: V2, ...input }, options);
  return world.published;
}

/** Every line the tests below made from the workflow's outcomes (README.md shows some of them). */
const produced = new Set<string>();
function lineOf(outcome: ReleaseOutcome, max?: number): string {
  const made = outcomeLine(outcome, max);
  produced.add(made);
  return made;
}

function expectOneLine(line: string): void {
  expect(line).not.toMatch(/\n/);
  expect(line.length).toBeLessThanOrEqual(OUTCOME_LINE_MAX);
}

describe('outcomeLine: app, version, outcome, why, from what the workflow publishes', () => {
  test('SUCCEEDED: the version and the color it is live on', async () => {
    const [outcome] = await published('good');
    expect(outcome.status).toBe('SUCCEEDED');
    expect(lineOf(outcome)).toBe('shop v2: released — live on green');
  });

  test('ROLLED_BACK after a failed canary: the metric that failed against the old color, with its threshold', async () => {
    const slow = await published('slow', { strategy: CANARY }, { settings: { analysis: ANALYSIS } });
    expect(slow.map((o) => o.status)).toEqual(['SHIFT_STEP', 'ROLLED_BACK']);
    expect(lineOf(slow[1])).toBe(
      "shop v2: rolled back — latency 1.50x blue's (120 ms against 80 ms, limit 1.25x)",
    );
    const errors = await published('errors-2pct', { strategy: CANARY }, { settings: { analysis: ANALYSIS } });
    expect(lineOf(errors[1])).toMatch(
      /^shop v2: rolled back — errors 2\.0% against blue's 0\.20% \(p = [0-9.e-]+ < 0\.005\)$/,
    );
  });

  test('ROLLED_BACK in the bake: the failed check, or the alarm with its datapoint', async () => {
    const [unhealthy] = await published('fails-after-switch');
    expect(lineOf(unhealthy)).toBe(
      'shop v2: rolled back — 3 consecutive failed health checks (threshold 3), last: GET /health: status 503 (through production)',
    );
    const [alarm] = await published('alarms-after-switch');
    expect(lineOf(alarm)).toBe(
      'shop v2: rolled back — alarm shop-green-5xx (datapoint 12 (Sum, 60s periods) against threshold 5)',
    );
  });

  test('ABORTED: the error, then what failed', async () => {
    const [validation] = await published('fails-validation');
    expect(lineOf(validation)).toBe(
      'shop v2: aborted (ValidationFailed) — GET /health: status 500, expected 200; GET /version: status 500, expected 200',
    );
    const [timeout] = await published('never-healthy');
    const line = lineOf(timeout);
    expect(line).toMatch(
      /^shop v2: aborted \(DeployTimeout\) — deploy timed out after 120s \(24 checks\): not ready: running 0\/2 tasks/,
    );
    expectOneLine(line);
  });

  test('REFUSED: the error and the reason, images shortened to their tags (a refusal has no image: the release id)', async () => {
    const world = new FakeWorld(V1);
    world.behaviours.set(V2, 'good');
    world.lock = {
      owner: 'release-0',
      image: `${REPO}:v0`,
      since: '2026-11-26T09:59:00Z',
      expiresAt: Date.parse('2026-11-26T12:00:00Z'),
    };
    await runRelease(world, { image: V2 });
    const line = lineOf(world.published[0]);
    expect(line).toMatch(
      /^shop release-1: refused \(ReleaseInProgress\) — Release release-0 \(v0, started 2026-11-26T09:59:00Z\) is in flight/,
    );
    expectOneLine(line);
  });

  test('ROLLBACK_FAILED: where traffic may be, and why it was rolling back', async () => {
    const failEverySwitchBack = Array.from({ length: 10 }, (_, i) => ({
      operation: 'router.setProductionWeights',
      nth: i + 2,
    }));
    const [outcome] = await published('fails-after-switch', {}, {}, { transient: failEverySwitchBack });
    expect(outcome.status).toBe('ROLLBACK_FAILED');
    expect(lineOf(outcome)).toBe(
      'shop v2: ROLLBACK FAILED, act now — traffic may still be on green; it was rolling back because of UnhealthyAfterSwitch',
    );
  });

  test('STOPPED: how the execution ended and in which state (the Stopped step has no image: the release id)', async () => {
    const world = new FakeWorld();
    const timedOut = await stopped({ execution: 'release-9', status: 'TIMED_OUT' }, world.deps(), SETTINGS);
    expect(lineOf(timedOut.outcome)).toBe('shop release-9: stopped — ended TIMED_OUT');
    const manual = await stopped(
      {
        execution: 'release-9',
        status: 'ABORTED',
        endedIn: 'Bake',
        error: 'ManualRollback',
        cause: 'Rolled back by alice with bluegreen rollback: errors.',
      },
      new FakeWorld().deps(),
      SETTINGS,
    );
    expect(lineOf(manual.outcome)).toBe('shop release-9: stopped — ended ABORTED in "Bake" (ManualRollback)');
  });

  test('CONTRACT_FAILED: live on the new color, and the contract failure', async () => {
    const world = new FakeWorld(V1);
    world.behaviours.set(V2, 'good');
    world.failingMigrations.set('contract', 'exit');
    await runRelease(world, { image: V2 }, { migrations: {} });
    const [outcome] = world.published;
    expect(outcome.status).toBe('CONTRACT_FAILED');
    const line = lineOf(outcome);
    expect(line).toMatch(
      /^shop v2: live on green, contract migrations failed — the task 0+1 stopped \(Essential container in task exited\), app/,
    );
    expectOneLine(line);
  });

  test('APPROVAL_REQUIRED: waits, validated, traffic still on the live color', () => {
    const outcome: ReleaseOutcome = {
      app: 'shop',
      release: 'release-3',
      status: 'APPROVAL_REQUIRED',
      image: `${REPO}:1.4.2`,
      liveColor: 'blue',
      cause: `${REPO}:1.4.2 passed validation on green (test listener http://x:9000) and waits for approval ...`,
    };
    expect(lineOf(outcome)).toBe('shop 1.4.2: waits for approval — passed validation; traffic still on blue');
  });

  test('SHIFT_STEP: the step, its verdict and what comes next, from the verdict itself', async () => {
    const failed = await published('slow', { strategy: CANARY }, { settings: { analysis: ANALYSIS } });
    expect(lineOf(failed[0])).toBe(
      "shop v2: step 1 (10% to green) FAIL, rolling back — latency 1.50x blue's (120 ms against 80 ms, limit 1.25x)",
    );
    const good = await published(
      'good',
      { strategy: { type: 'linear', stepPercent: 25, bakeSeconds: 120 } },
      { settings: { analysis: ANALYSIS } },
    );
    expect(good.map((o) => o.status)).toEqual(['SHIFT_STEP', 'SHIFT_STEP', 'SHIFT_STEP', 'SUCCEEDED']);
    expect(lineOf(good[0])).toMatch(
      /^shop v2: step 1 \(25% to green\) PASS, next step — errors 0\.20% against blue's 0\.20%; latency 1\.00x blue's$/,
    );
    expect(lineOf(good[2])).toMatch(/^shop v2: step 3 \(75% to green\) PASS, on to 100% — /);
  });

  test("a user's alarm during a step: the step and the rollback name the alarm and its reason", async () => {
    const world = new FakeWorld(V1);
    world.behaviours.set(V2, 'good');
    world.onCall = (call, n) => {
      if (call === 'alarms.named' && n === 2) {
        world.alarmStates.set('shop-checkout-errors', {
          name: 'shop-checkout-errors',
          color: 'green',
          since: new Date(world.clock).toISOString(),
          reason: 'Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (5.0).',
        });
      }
    };
    await runRelease(
      world,
      { image: V2, strategy: { type: 'linear', stepPercent: 25, bakeSeconds: 120 } },
      { settings: { analysis: ANALYSIS } },
    );
    expect(world.published.map((o) => o.status)).toEqual(['SHIFT_STEP', 'ROLLED_BACK']);
    const why = 'alarm shop-checkout-errors: 1 datapoint [7.0] was greater than the threshold (5.0)';
    expect(lineOf(world.published[0])).toBe(`shop v2: step 1 (25% to green) FAIL, rolling back — ${why}`);
    expect(lineOf(world.published[1])).toBe(`shop v2: rolled back — ${why}`);
  });

  test('the new color losing its tasks mid-shift: what was lost', async () => {
    const world = new FakeWorld(V1);
    world.behaviours.set(V2, 'good');
    world.onCall = (call, n) => {
      if (call === 'router.setProductionWeights' && n === 1) {
        world.services.green.running = 1;
      }
    };
    await runRelease(
      world,
      { image: V2, strategy: { type: 'linear', stepPercent: 25, bakeSeconds: 120 } },
      { settings: { analysis: ANALYSIS } },
    );
    const outcome = world.published.at(-1)!;
    expect(outcome.status).toBe('ROLLED_BACK');
    const line = lineOf(outcome);
    expectOneLine(line);
    expect(line).toBe(
      'shop v2: rolled back — green has 1 healthy and 1 not healthy targets (1 target(s) unhealthy (Target.ResponseCodeMismatch))',
    );
  });

  test('an inconclusive comparison says which metric had too few requests', () => {
    const policy: AnalysisPolicy = { ...ANALYSIS.policy, minRequests: 100 };
    const verdict = compareColors(
      { requests: 40, errors: 0, latencyMs: 80 },
      { requests: 5, errors: 0, latencyMs: 80 },
      policy,
    );
    const outcome: ReleaseOutcome = {
      app: 'shop',
      release: 'release-4',
      status: 'ROLLED_BACK',
      image: `${REPO}:v2`,
      liveColor: 'blue',
      error: 'RolledBack',
      cause: `AnalysisInconclusive: Step 1/2 (10% to green, window 10:01:00-10:03:00Z): ${verdict.summary.replace(/\.$/, '')}. Roll back to blue. Rolled back: all traffic is on blue again.`,
    };
    expect(lineOf(outcome)).toBe(
      'shop v2: rolled back — errors: too few requests (old 40, new 5; at least 100); p99: too few requests (old 40, new 5; at least 1000)',
    );
  });
  test('the lines README.md shows under "Chat notifications (Slack)" are lines these releases produced', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Chat notifications (Slack)'));
    const shown = /```\n(shop [^`]*?)```/.exec(section)![1].trim().split('\n');
    expect(shown.length).toBeGreaterThanOrEqual(5);
    for (const l of shown) {
      expect(produced).toContain(l);
    }
  });
});

describe('outcomeLine: one line, cut sanely', () => {
  test('a long cause is cut at a word, with "…", within the limit', () => {
    const outcome: ReleaseOutcome = {
      app: 'shop',
      release: 'release-5',
      status: 'ABORTED',
      image: `${REPO}:v2`,
      error: 'ValidationFailed',
      cause: `Validation of ${REPO}:v2 on green (test listener) failed: ${Array.from({ length: 40 }, (_, i) => `GET /p${i}: status 500, expected 200`).join('; ')}.`,
    };
    const line = outcomeLine(outcome);
    expect(line.length).toBeLessThanOrEqual(OUTCOME_LINE_MAX);
    expect(line).toMatch(/^shop v2: aborted \(ValidationFailed\) — GET \/p0: status 500, expected 200; .*…$/);
    expect(line).not.toMatch(/[;,:] ?…$/);
    expect(outcomeLine(outcome, 60)).toBe('shop v2: aborted (ValidationFailed) — GET /p0: status 500…');
  });

  test('a cause of one very long word (a stuck log line, an encoded blob) makes its line at once, not in minutes', () => {
    // Looking for an alarm's name from every character of a 400,000-character word scanned the rest of the word
    // each time: about 8 minutes on a 2-core machine; now a few milliseconds. 30 s is a bound no busy machine
    // reaches, and one the quadratic scan cannot meet.
    const started = process.hrtime.bigint();
    const line = outcomeLine({
      app: 'shop',
      release: 'r',
      status: 'ROLLED_BACK',
      image: `${REPO}:v2`,
      cause: `Rollback: ${'é'.repeat(400_000)} then blue-5xx in ALARM since 2026-11-26T10:00:00Z (1 datapoint [7.0]).`,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(line).toBe('shop v2: rolled back — alarm blue-5xx (1 datapoint [7.0])');
    expect(seconds).toBeLessThan(30);
  }, 600_000);

  test('new lines in a cause never reach the line', () => {
    const line = outcomeLine({
      app: 'shop',
      release: 'r',
      status: 'CONTRACT_FAILED',
      liveColor: 'green',
      cause: 'The contract\nfailed:\n  exit 1',
    });
    expect(line).toBe('shop r: live on green, contract migrations failed — The contract failed: exit 1');
  });

  test('truncate keeps short text, cuts long text at a word and never returns more than asked', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('one two three four', 12)).toBe('one two…');
    expect(truncate('x'.repeat(30), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  test('versionOf: the tag, or a digest shortened', () => {
    expect(versionOf(`${REPO}:1.4.2`)).toBe('1.4.2');
    expect(versionOf('localhost:5000/shop:v7')).toBe('v7');
    expect(versionOf('nginx')).toBe('nginx');
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(versionOf(`${REPO}@${digest}`)).toBe('sha256:abababababab…');
    expect(versionOf(`${REPO}:${digest}`)).toBe('sha256:abababababab…');
  });
});
