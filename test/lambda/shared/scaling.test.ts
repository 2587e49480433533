import fc from 'fast-check';
import {
  boundsFor,
  formatRecordedCapacity,
  heldAt,
  parseRecordedCapacity,
  restingAt,
  targetTrackingCount,
  type ColorBounds,
} from '../../../lambda/shared/scaling';

const SETTINGS = { minCount: 2, maxCount: 20 };

describe('auto scaling bounds (lambda/shared/scaling.ts)', () => {
  test('record values read back as written: auto, and every min,max pair up to 1000', () => {
    expect(parseRecordedCapacity('auto')).toBe('auto');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (a, b) => {
        const value = { min: Math.min(a, b), max: Math.max(a, b) };
        expect(parseRecordedCapacity(formatRecordedCapacity(value))).toEqual(value);
      }),
    );
  });

  test('anything else is not a record value', () => {
    for (const value of ['', 'AUTO', '5', '5,4', '1,1001', '-1,2', '1.5,2', '2, 3', '2,3,4', 'a,b']) {
      expect([value, parseRecordedCapacity(value)]).toEqual([value, undefined]);
    }
  });

  test('auto: the live color within the configured bounds, the idle one at 0; explicit bounds suspend scale-in', () => {
    expect(boundsFor('auto', true, SETTINGS)).toEqual({ min: 2, max: 20, scaleInSuspended: false });
    expect(boundsFor('auto', false, SETTINGS)).toEqual({ min: 0, max: 0, scaleInSuspended: false });
    expect(boundsFor({ min: 6, max: 20 }, true, SETTINGS)).toEqual({
      min: 6,
      max: 20,
      scaleInSuspended: true,
    });
    expect(boundsFor({ min: 6, max: 6 }, false, SETTINGS)).toEqual({
      min: 6,
      max: 6,
      scaleInSuspended: true,
    });
  });

  test('held at a count: nothing below it, scale-out to the configured max (or the count, when above it)', () => {
    expect(heldAt(6, SETTINGS)).toEqual({ min: 6, max: 20 });
    expect(heldAt(25, SETTINGS)).toEqual({ min: 25, max: 25 });
    expect(restingAt(0)).toBe('auto');
    expect(restingAt(4)).toEqual({ min: 4, max: 4 });
  });

  describe('target tracking', () => {
    const free: ColorBounds = { min: 1, max: 10, scaleInSuspended: false };

    test('ceil(current × metric / target), within the bounds', () => {
      expect(targetTrackingCount({ current: 2, metric: 150, target: 50, bounds: free })).toBe(6);
      expect(targetTrackingCount({ current: 2, metric: 51, target: 50, bounds: free })).toBe(3);
      expect(targetTrackingCount({ current: 4, metric: 10, target: 50, bounds: free })).toBe(1);
      expect(targetTrackingCount({ current: 4, metric: 500, target: 50, bounds: free })).toBe(10);
    });

    test('with scale-in suspended the count never goes down; scale-out still acts', () => {
      const held = { ...free, scaleInSuspended: true };
      expect(targetTrackingCount({ current: 4, metric: 10, target: 50, bounds: held })).toBe(4);
      expect(targetTrackingCount({ current: 4, metric: 100, target: 50, bounds: held })).toBe(8);
    });

    test('no units and no load: nothing to do; no units and load: one, then the arithmetic', () => {
      const idle: ColorBounds = { min: 0, max: 10, scaleInSuspended: false };
      expect(targetTrackingCount({ current: 0, metric: 0, target: 50, bounds: idle })).toBe(0);
      expect(targetTrackingCount({ current: 0, metric: 30, target: 50, bounds: idle })).toBe(1);
    });

    test('the result is always within the bounds and meets the target when the bounds allow', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 50 }),
          fc.integer({ min: 0, max: 5000 }),
          fc.integer({ min: 1, max: 1000 }),
          fc.integer({ min: 0, max: 20 }),
          fc.integer({ min: 0, max: 40 }),
          fc.boolean(),
          (current, metric, target, a, b, suspended) => {
            const bounds = { min: Math.min(a, b), max: Math.max(a, b), scaleInSuspended: suspended };
            const count = targetTrackingCount({ current, metric, target, bounds });
            expect(count).toBeGreaterThanOrEqual(bounds.min);
            expect(count).toBeLessThanOrEqual(bounds.max);
            if (count > 0 && count < bounds.max) {
              // The load per unit at the new count is at or under the target.
              expect((current * metric) / count).toBeLessThanOrEqual(target + 1e-9);
            }
          },
        ),
      );
    });
  });
});
