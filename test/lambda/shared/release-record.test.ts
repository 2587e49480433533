import {
  imageReference,
  isColor,
  otherColor,
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
    });
  });

  test('an image reference is repository:tag, or repository@digest', () => {
    expect(imageReference('public.ecr.aws/nginx/nginx', '1.27')).toBe('public.ecr.aws/nginx/nginx:1.27');
    expect(imageReference('repo', `sha256:${'0'.repeat(64)}`)).toBe(`repo@sha256:${'0'.repeat(64)}`);
  });
});
