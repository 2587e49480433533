/**
 * The report of the recorded release whose production hook failed (test/report/fixtures/record.ts,
 * "hooks-rolled-back"): the hook branch's Fail state carried the hook's answers after its cause
 * (lambda/shared/carried-state.ts), which the history shows in the Parallel's failure; the report shows words only.
 */
import { carriedMarker } from '../../lambda/shared/carried-state';
import { reportFromHistory } from '../../report/from-history';
import { recordedRelease } from './fixtures/load';

test("the history carries the hook's answers in the Parallel's failure; the report quotes its cause without them", () => {
  const recorded = recordedRelease('hooks-rolled-back');
  expect(JSON.stringify(recorded.events)).toContain(carriedMarker('hooks'));
  const report = reportFromHistory('shop', recorded.describe, recorded.events);
  const failure = report.verdicts.find((v) => v.kind === 'failure' && v.name === 'Bake and production hook');
  expect(failure?.value).toMatch(
    /^ProductionHookFailed: The production hook .* checkout returns 500 for EUR carts\.$/,
  );
  expect(JSON.stringify(report)).not.toContain('bluegreen carried');
});
