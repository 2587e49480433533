/**
 * What `bluegreen rollback` of a cold color needs from the stack: release.coldRollbackWindowHours (checked like every
 * setting), and the output ColdRollbackSettings, which the CLI reads back with the configured values.
 */
import { ConfigError, parseConfig } from '../lib/config';
import { COLD_ROLLBACK_OUTPUT, decodeColdRollbackSettings } from '../lib/cold-rollback-settings';
import { BASE_CONFIG, merge, synth } from './support/synth';

describe('cold rollback settings', () => {
  test('release.coldRollbackWindowHours: 24 by default, 1-8760 hours', () => {
    expect(parseConfig(BASE_CONFIG).release.coldRollbackWindowHours).toBe(24);
    expect(
      parseConfig(merge(BASE_CONFIG, { release: { coldRollbackWindowHours: 72 } })).release
        .coldRollbackWindowHours,
    ).toBe(72);
    expect(() => parseConfig(merge(BASE_CONFIG, { release: { coldRollbackWindowHours: 0 } }))).toThrow(
      ConfigError,
    );
    try {
      parseConfig(merge(BASE_CONFIG, { release: { coldRollbackWindowHours: 1.5 } }));
      throw new Error('accepted');
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'release.coldRollbackWindowHours: must be a whole number from 1 to 8760 hours (got 1.5)',
      ]);
    }
  });

  test('the stack output carries the window, the deadline, the poll interval, the smoke checks, the header and the Validate Lambda', () => {
    const { serviceJson } = synth({
      release: {
        coldRollbackWindowHours: 48,
        deployTimeoutSeconds: 600,
        deployPollSeconds: 10,
        smokeChecks: [{ path: '/version', expectVersion: true, latencyBudgetMs: 300 }],
      },
    });
    // The JSON with the Validate Lambda's ARN joined in (CloudFormation resolves it at deploy time).
    const joined = serviceJson.Outputs![COLD_ROLLBACK_OUTPUT].Value as { 'Fn::Join': [string, unknown[]] };
    const parts = joined['Fn::Join'][1];
    expect(parts.filter((p) => typeof p !== 'string')).toEqual([
      { 'Fn::GetAtt': [expect.stringContaining('StepsValidateFunction'), 'Arn'] },
    ]);
    const value = parts.map((p) => (typeof p === 'string' ? p : 'arn:validate')).join('');
    expect(decodeColdRollbackSettings(value)).toEqual({
      windowHours: 48,
      timeoutSeconds: 600,
      pollSeconds: 10,
      smokeChecks: [{ path: '/version', expectStatus: 200, expectVersion: true, latencyBudgetMs: 300 }],
      testHeader: 'X-Bluegreen-Test-Token',
      validateFunctionArn: 'arn:validate',
    });
    expect(decodeColdRollbackSettings('{"windowHours":1}')).toBeUndefined();
    expect(decodeColdRollbackSettings('not json')).toBeUndefined();
  });
});
