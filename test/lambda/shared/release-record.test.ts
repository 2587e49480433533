import fc from 'fast-check';
import {
  formatRecordWeights,
  imageReference,
  isColor,
  otherColor,
  parseRecordWeights,
  recordParameterNames,
} from '../../../lambda/shared/release-record';

describe('release record', () => {
  test('the idle color is the other one', () => {
    expect(otherColor('blue')).toBe('green');
    expect(otherColor('green')).toBe('blue');
  });

  test('only blue and green are colors', () => {
    expect(['blue', 'green', 'Blue', 'red', '', undefined].map(isColor)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  test('parameter names live under one prefix per app', () => {
    expect(recordParameterNames('shop')).toEqual({
      liveColor: '/bluegreen/shop/live-color',
      image: { blue: '/bluegreen/shop/blue/image', green: '/bluegreen/shop/green/image' },
      weights: '/bluegreen/shop/production-weights',
      capacity: { blue: '/bluegreen/shop/blue/capacity', green: '/bluegreen/shop/green/capacity' },
    });
  });

  test('production weights are "<blue>,<green>" and read back as written, for every pair a listener can hold', () => {
    expect(formatRecordWeights({ blue: 900, green: 100 })).toBe('900,100');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 999 }), (blue, green) => {
        fc.pre(blue + green > 0);
        expect(parseRecordWeights(formatRecordWeights({ blue, green }))).toEqual({ blue, green });
      }),
    );
  });

  test('anything else is not production weights', () => {
    for (const value of ['0,0', '1000,0', '900', '900,100,0', '-1,1', '1.5,2', '900, 100', 'a,b', '']) {
      expect([value, parseRecordWeights(value)]).toEqual([value, undefined]);
    }
  });

  test('an image reference is repository:tag, or repository@digest', () => {
    expect(imageReference('public.ecr.aws/nginx/nginx', '1.27')).toBe('public.ecr.aws/nginx/nginx:1.27');
    expect(imageReference('repo', `sha256:${'0'.repeat(64)}`)).toBe(`repo@sha256:${'0'.repeat(64)}`);
  });
});
