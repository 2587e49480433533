/**
 * The rehearsal's scenario 9, as `npm start` plays it: a release whose old color the workflow scales to 0, then the
 * operator's `bluegreen rollback` brings it back cold (lambda/workflow/cold-rollback.ts with the rehearsal's ports:
 * real sample-app processes, the local load balancer) while users keep coming. The assertions count events (the
 * fleet's log, the router's weight changes and routed requests, the users' answers), never the clock.
 */
import { rehearse, type ScenarioResult } from '../../rehearsal/rehearse';

let s: ScenarioResult;
const lines: string[] = [];

beforeAll(async () => {
  const result = await rehearse({
    scenarios: [9],
    bakeSeconds: 1,
    concurrency: 4,
    log: (line) => lines.push(line),
  });
  s = result.scenarios[0];
}, 300_000);

describe('local rehearsal: rollback after the old color went cold (scenario 9)', () => {
  test('the release ends, then the cold rollback puts v1 back on blue: restored, with its figures', () => {
    expect({ outcome: s.outcome, passed: s.passed }).toEqual({ outcome: 'Released', passed: true });
    const cold = s.coldRollback!;
    expect(cold.error).toBeUndefined();
    expect(cold.ok).toBe(true);
    expect(cold.result).toMatchObject({ to: 'blue', from: 'green', count: 2, version: 'v1' });
    expect(cold.result!.checks.map((c) => [c.name, c.passed])).toEqual([
      ['GET /health', true],
      ['GET /version', true],
      ['target health', true],
    ]);
    const t = cold.result!.timings;
    expect(t.restoreMs).toBeGreaterThanOrEqual(t.scaleUpMs + t.smokeMs + t.switchMs);
    expect(s.liveAfter).toBe('blue v1');
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}cold rollback: restored in \d+\.\d\d s \(scale-up \d+\.\d\d s, smoke \d+\.\d\d s, switch \d+ ms\); green stays warm$/,
      ),
    );
  });

  test('blue is started on its revision before traffic moves back, and green keeps running', () => {
    const [toGreen, toBlue] = s.weightChanges;
    expect(s.weightChanges).toHaveLength(2);
    expect(toGreen.weights).toEqual({ blue: 0, green: 100 });
    expect(toBlue.weights).toEqual({ blue: 100, green: 0 });
    const blue = s.fleetEvents.filter((e) => e.color === 'blue');
    // The release scaled blue down after its switch; the cold rollback started it again under the same weights.
    const down = blue.findIndex((e) => e.desired === 0 && e.before === 2);
    const up = blue.findIndex((e, i) => i > down && e.desired === 2);
    expect(down).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(down);
    expect(blue[up].weightChange).toBe(toGreen.index);
    expect(blue[up].revision).toBe(blue[down].revision);
    // Nothing scaled green down afterwards: it is the way forward again.
    const green = s.fleetEvents.filter((e) => e.color === 'green');
    expect(green[green.length - 1].desired).toBe(2);
  });

  test('users saw no failed request, during the cold rollback or at all; after its switch blue answers them', () => {
    const cold = s.coldRollback!;
    expect(cold.users.requests).toBeGreaterThan(0);
    expect(cold.users.failed).toBe(0);
    expect(s.load.failed).toBe(0);
    const after = s.routed.filter((r) => r.change === s.weightChanges[1].index);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((r) => r.color === 'blue' && r.status < 500)).toBe(true);
  });
});
