/**
 * A shift step that rolls back throws before it returns, so its verdict reaches the history only as the Analyse
 * step's error message (lambda/workflow/analyse.ts: stepSummary of compareColors' summary), which
 * report/verdicts.ts reads back. Here that message is made by the real code for each kind of step that rolls back,
 * and read back: the same verdicts (names, pass or fail, advisory, inconclusive) as the step's own StepVerdict gives
 * when it reaches the state data, so a change to the message's wording that the read-back misses fails here.
 */
import { compareColors, type ColorWindow } from '../../lambda/shared/analysis';
import { DEFAULT_POLICY } from '../../lambda/shared/strategy';
import type { StepVerdict } from '../../lambda/shared/release';
import { stepSummary } from '../../lambda/workflow/analyse';
import { decisiveFailure, failedStepVerdicts, stepVerdicts } from '../../report/verdicts';

const AT = '2026-11-26T15:04:00.000Z';

/** What the Analyse step throws, and the StepVerdict it publishes, for these windows (as analyse.ts makes them). */
function rolledBackStep(
  old: ColorWindow,
  neu: ColorWindow,
  options: { critical?: { errors: boolean; latency: boolean }; alarms?: string[] } = {},
): { message: string; step: StepVerdict } {
  const policy = { ...DEFAULT_POLICY, critical: options.critical ?? DEFAULT_POLICY.critical };
  const verdict = compareColors(old, neu, policy, 99);
  const alarms = options.alarms ?? [];
  const result = alarms.length > 0 ? 'fail' : verdict.result;
  const summary = stepSummary({
    step: 1,
    steps: 2,
    percent: 10,
    color: 'green',
    window: '15:01:00-15:03:00Z',
    found:
      alarms.length > 0
        ? `the user's alarm(s) went off: ${alarms.join('; ')}; ${verdict.summary}`
        : verdict.summary,
    doing: 'roll back to blue',
    dry: '',
  });
  const message =
    result === 'inconclusive'
      ? `${summary} Inconclusive after 1 extension(s) (release.analysis.onInconclusive extend, maxExtensions 1).`
      : summary;
  const step: StepVerdict = {
    step: 1,
    percent: 10,
    window: { start: '2026-11-26T15:01:00Z', end: '2026-11-26T15:03:00Z' },
    result,
    metrics: verdict.metrics,
    alarms,
    action: 'rollback',
    summary,
  };
  return { message, step };
}

/** Name, and pass or fail, of each verdict. */
function shape(verdicts: readonly { name: string; passed: boolean }[]) {
  return verdicts.map((v) => [v.name, v.passed]);
}

test.each([
  [
    'errors failed, latency passed',
    rolledBackStep(
      { requests: 21600, errors: 43, latencyMs: 120 },
      { requests: 2400, errors: 48, latencyMs: 125 },
    ),
  ],
  [
    'errors failed, latency failed too but advisory',
    rolledBackStep(
      { requests: 21600, errors: 43, latencyMs: 120 },
      { requests: 2400, errors: 48, latencyMs: 400 },
      { critical: { errors: true, latency: false } },
    ),
  ],
  [
    'too few requests: inconclusive',
    rolledBackStep({ requests: 900, errors: 0, latencyMs: 120 }, { requests: 40, errors: 0, latencyMs: 125 }),
  ],
  [
    "the user's alarm went off, the comparison passed",
    rolledBackStep(
      { requests: 21600, errors: 43, latencyMs: 120 },
      { requests: 2400, errors: 5, latencyMs: 121 },
      {
        alarms: ['shop-checkout-errors in ALARM since 2026-11-26T15:02:00Z'],
      },
    ),
  ],
])('%s: read back from the message as the step verdict says', (_, { message, step }) => {
  const read = failedStepVerdicts(message, AT, 'Analyse step');
  expect(read).toBeDefined();
  const own = stepVerdicts(step, AT, 'green').filter((v) => v.kind === 'analysis' || !v.passed);
  expect(shape(read!)).toEqual(shape(own));
  // The inconclusive and advisory ones never decide, read back or not.
  expect(read!.map((v) => decisiveFailure(v))).toEqual(own.map((v) => decisiveFailure(v)));
});
