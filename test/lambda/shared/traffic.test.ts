import { describeTraffic, findDrift, routedTraffic } from '../../../lambda/shared/traffic';

const PARAM = '/bluegreen/shop/live-color';

describe('routedTraffic: where the listener really sends users', () => {
  test.each([
    [
      { blue: 100, green: 0 },
      { kind: 'live', color: 'blue' },
    ],
    [
      { blue: 0, green: 1 },
      { kind: 'live', color: 'green' },
    ],
    [
      { blue: 90, green: 10 },
      { kind: 'split', weights: { blue: 90, green: 10 } },
    ],
    [{ blue: 0, green: 0 }, { kind: 'none' }],
  ])('%j → %j', (weights, expected) => {
    expect(routedTraffic(weights)).toEqual(expected);
  });

  test('a split is described in percent', () => {
    expect(describeTraffic(routedTraffic({ blue: 3, green: 1 }))).toBe(
      'production traffic split blue 75% / green 25%',
    );
  });
});

describe('findDrift: record and listener must agree', () => {
  test('no drift when all traffic goes to the recorded color', () => {
    expect(findDrift('green', { blue: 0, green: 100 }, PARAM)).toBeUndefined();
  });

  test('the listener on the other color: both values, and both ways to reconcile', () => {
    const drift = findDrift('blue', { blue: 0, green: 100 }, PARAM);
    expect(drift?.routed).toEqual({ kind: 'live', color: 'green' });
    expect(drift?.message).toBe(
      'Drift: the release record /bluegreen/shop/live-color says blue is live, but the production listener sends ' +
        'all production traffic to green. To reconcile: if green is healthy and meant to be live, record it: ' +
        'aws ssm put-parameter --name /bluegreen/shop/live-color --value green --overwrite; otherwise point the ' +
        'production listener back at blue (weight 100, the other color 0). bluegreen will not guess which one is right.',
    );
  });

  test('a split the record holds (a gradual shift under way) is no drift; another split, or all on one color, is', () => {
    expect(findDrift('blue', { blue: 900, green: 100 }, PARAM, { blue: 900, green: 100 })).toBeUndefined();
    expect(findDrift('blue', { blue: 9, green: 1 }, PARAM, { blue: 900, green: 100 })).toBeUndefined();
    expect(findDrift('blue', { blue: 500, green: 500 }, PARAM, { blue: 900, green: 100 })).toBeDefined();
    expect(findDrift('blue', { blue: 0, green: 100 }, PARAM, { blue: 900, green: 100 })).toBeDefined();
    // A record that says all on blue never excuses a split listener.
    expect(findDrift('blue', { blue: 900, green: 100 }, PARAM, { blue: 100, green: 0 })).toBeDefined();
  });

  test('a split listener (a shift left half done) is drift too, with no record fix offered', () => {
    const drift = findDrift('blue', { blue: 50, green: 50 }, PARAM);
    expect(drift?.message).toContain('sends production traffic split blue 50% / green 50%');
    expect(drift?.message).not.toContain('put-parameter');
  });

  test('no traffic at all is drift', () => {
    expect(findDrift('blue', { blue: 0, green: 0 }, PARAM)?.routed).toEqual({ kind: 'none' });
  });
});
