/**
 * The report's axes and labels: nice ticks (0, intermediate values, a nice maximum), time ticks in seconds or on
 * the clock, transition labels that never overlap, lanes in the order the states were entered.
 */
import { lanes, stateChart, timeAxis } from '../../report/charts';
import { labelWidth, overlaps, packLabels, type PlacedLabel } from '../../report/layout';
import { formatTick, niceStep, timeTicks, valueTicks } from '../../report/ticks';
import { released, rolledBack } from './html-fixture';

describe('value ticks', () => {
  test.each([
    [87, false, [0, 25, 50, 75, 100]],
    [100, false, [0, 25, 50, 75, 100]],
    [0.3, false, [0, 0.1, 0.2, 0.3]],
    [1016, true, [0, 500, 1000, 1500]],
    [7, true, [0, 2, 4, 6, 8]],
    [1, true, [0, 1]],
    [0, true, [0, 1]],
    [0, false, [0, 0.25, 0.5, 0.75, 1]],
  ])('max %p (whole numbers: %p) → %p', (max, integer, expected) => {
    expect(valueTicks(max, 4, integer)).toEqual(expected);
  });

  test('for any maximum: from 0 in equal nice steps, at most 5 intervals, the last at or above the maximum', () => {
    for (let max = 0.013; max < 2e6; max *= 1.37) {
      for (const integer of [false, true]) {
        const ticks = valueTicks(max, 4, integer);
        const step = ticks[1] - ticks[0];
        expect(ticks[0]).toBe(0);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(6);
        expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
        // Not more than one step of slack above the maximum.
        expect(ticks[ticks.length - 2]).toBeLessThan(max);
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 2.5, 5]).toContainEqual(Number(mantissa.toPrecision(6)));
        if (integer) {
          expect(Number.isInteger(step)).toBe(true);
        }
        ticks.forEach((v, i) => expect(v).toBeCloseTo(i * step, 9));
      }
    }
  });

  test('labels without float noise, thousands as k', () => {
    expect(formatTick(0.1 + 0.2)).toBe('0.3');
    expect(formatTick(1500)).toBe('1500');
    expect(formatTick(25_000)).toBe('25k');
    expect(niceStep(9.1, 10)).toBe(1);
  });
});

describe('time ticks', () => {
  test('a rehearsal scenario (seconds): 0 s and every nice step to the end', () => {
    const start = Date.parse('2026-03-04T15:00:00.000Z');
    const ticks = timeTicks(start, start + 9100, 10);
    expect(ticks.map((t) => t.label)).toEqual([
      '0 s',
      '1 s',
      '2 s',
      '3 s',
      '4 s',
      '5 s',
      '6 s',
      '7 s',
      '8 s',
      '9 s',
    ]);
    expect(ticks[3].at).toBe(start + 3000);
    expect(timeTicks(start, start + 3300).map((t) => t.label)).toEqual([
      '0 s',
      '0.5 s',
      '1 s',
      '1.5 s',
      '2 s',
      '2.5 s',
      '3 s',
    ]);
  });

  test('a real release (the clock, UTC): whole minutes, the first at or after the start', () => {
    const start = Date.parse('2026-03-04T14:00:30.000Z');
    const ticks = timeTicks(start, start + 12 * 60_000);
    expect(ticks.map((t) => t.label)).toEqual(['14:02', '14:04', '14:06', '14:08', '14:10', '14:12']);
    expect(ticks[0].at).toBe(Date.parse('2026-03-04T14:02:00.000Z'));
    const day = timeTicks(start, start + 9 * 3600_000, 10);
    expect(day.map((t) => t.label)).toEqual([
      '15:00',
      '16:00',
      '17:00',
      '18:00',
      '19:00',
      '20:00',
      '21:00',
      '22:00',
      '23:00',
    ]);
  });
});

describe('transition labels', () => {
  const noOverlap = (placed: readonly PlacedLabel[]) => {
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) {
        expect({ pair: [placed[i].text, placed[j].text], overlaps: overlaps(placed[i], placed[j]) }).toEqual({
          pair: [placed[i].text, placed[j].text],
          overlaps: false,
        });
      }
    }
  };

  test('close labels go to rows of their own; far ones share the first row', () => {
    const close = packLabels(
      ['Check new live color', 'Roll back', 'Rolled back', 'Abort'].map((text, i) => ({
        x: 500 + i * 0.4,
        text,
      })),
      1000,
    );
    noOverlap(close);
    expect(close.map((p) => p.row)).toEqual([0, 1, 2, 3]);
    const far = packLabels(
      ['Prepare', 'Validate idle color', 'Finish'].map((text, i) => ({ x: 100 + i * 300, text })),
      1000,
    );
    expect(far.map((p) => p.row)).toEqual([0, 0, 0]);
    // Each box is as wide as its text at 6 px a character, and starts just right of its marker.
    expect(far[1].x1 - far[1].x0).toBe(labelWidth('Validate idle color'));
    expect(far[1].x0).toBe(403);
  });

  test('a label near the right edge ends at it; a free row is reused', () => {
    const placed = packLabels(
      [
        { x: 990, text: 'Rolled back' },
        { x: 100, text: 'Prepare' },
        { x: 104, text: 'Deploy to idle color' },
        { x: 400, text: 'Switch traffic' },
      ],
      1000,
    );
    noOverlap(placed);
    expect(placed[0].x1).toBe(1000);
    expect(placed.map((p) => p.row)).toEqual([0, 0, 1, 0]);
  });

  test('transitions 50 ms apart in a rendered chart: no two labels overlap, and none is over the bars', () => {
    const svg = stateChart(rolledBack, timeAxis(rolledBack));
    const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))![1];
    const labels = [...svg.matchAll(/<text class="marker-label"[^>]*>/g)].map(([tag]) => ({
      text: attr(tag, 'data-state'),
      x: 0,
      x0: Number(attr(tag, 'data-x0')),
      x1: Number(attr(tag, 'data-x1')),
      row: Number(attr(tag, 'data-row')),
      y: Number(attr(tag, 'y')),
    }));
    // Prepare, Deploy, Validate, Switch, the failed check, Roll back, Abort.
    expect(labels.map((l) => l.text)).toEqual([
      'Prepare',
      'Deploy to idle color',
      'Validate idle color',
      'Switch traffic',
      'Check new live color',
      'Roll back',
      'Abort',
    ]);
    noOverlap(labels);
    const rows = new Set(labels.map((l) => l.row)).size;
    expect(rows).toBeGreaterThanOrEqual(3);
    // Every label's baseline is above the first lane.
    const firstLane = Math.min(
      ...[...svg.matchAll(/class="state-bar"[^>]* y="([\d.]+)"/g)].map((m) => Number(m[1])),
    );
    for (const l of labels) {
      expect(l.y).toBeLessThan(firstLane);
    }
  });
});

describe('state lanes', () => {
  test('one lane per state, in the order first entered: Abort below Validate idle color', () => {
    expect(lanes(rolledBack.states).map((l) => l.name)).toEqual([
      'Prepare',
      'Deploy to idle color',
      'Validate idle color',
      'Switch traffic',
      'Check new live color',
      'Roll back',
      'Abort',
    ]);
    const svg = stateChart(rolledBack, timeAxis(rolledBack));
    const laneY = (state: string) =>
      Number(svg.match(new RegExp(`class="state-bar" data-state="${state}"[^>]* y="([\\d.]+)"`))![1]);
    expect(laneY('Abort')).toBeGreaterThan(laneY('Roll back'));
    expect(laneY('Roll back')).toBeGreaterThan(laneY('Validate idle color'));
  });

  test('a state entered again keeps its first lane', () => {
    const states = [
      { name: 'Bake: wait', enteredAt: '2026-01-01T00:00:00Z', exitedAt: '2026-01-01T00:00:01Z' },
      { name: 'Check new live color', enteredAt: '2026-01-01T00:00:01Z', exitedAt: '2026-01-01T00:00:02Z' },
      { name: 'Bake: wait', enteredAt: '2026-01-01T00:00:02Z', exitedAt: '2026-01-01T00:00:03Z' },
      { name: 'Finish', enteredAt: '2026-01-01T00:00:03Z' },
    ];
    expect(lanes(states).map((l) => [l.name, l.entries.length])).toEqual([
      ['Bake: wait', 2],
      ['Check new live color', 1],
      ['Finish', 1],
    ]);
    expect(released.states.length).toBe(lanes(released.states).length);
  });
});
