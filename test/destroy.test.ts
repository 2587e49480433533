/**
 * What `cdk destroy` leaves behind, from the templates: only what README's "Deploying to AWS" says stays (the
 * access-log bucket, the database's final snapshot; the record parameters are not CloudFormation resources).
 * Every log group goes with the stack and keeps logs for logRetentionDays, including the ones of CDK's own
 * custom-resource functions, and no function is left to Lambda's default log group (never expires, never
 * deleted). A kept resource with a fixed name would make the next deploy of the same appName fail.
 */
import { synth, type CfnTemplate } from './support/synth';

const RETENTION = 14;
const KEPT: Record<string, string> = {
  'AWS::S3::Bucket': 'Retain', // the ALB access logs, an audit trail
  'AWS::RDS::DBCluster': 'Snapshot', // a final snapshot of the database
};

type Resource = CfnTemplate['Resources'][string] & { DeletionPolicy?: string; UpdateReplacePolicy?: string };

describe.each([
  ['ecs', {}],
  ['asg', { platform: 'asg' as const }],
  [
    'ecs with migrations, a database, Redis and the GitHub role',
    {
      migrations: { command: ['node', 'migrate.js'] },
      database: {},
      redis: { enabled: true },
      githubDeployRole: { repository: 'octo/shop' },
    },
  ],
])('%s', (_, overrides) => {
  const s = synth({ ...overrides, logRetentionDays: RETENTION });
  const templates = { service: s.serviceJson, record: s.record.toJSON() as CfnTemplate };
  const all: { stack: string; id: string; r: Resource }[] = Object.entries(templates).flatMap(([stack, t]) =>
    Object.entries(t.Resources).map(([id, r]) => ({ stack, id, r })),
  );

  test('only the access-log bucket and the database snapshot outlive the stack', () => {
    const kept = all
      .filter(({ r }) => (r.DeletionPolicy ?? 'Delete') !== 'Delete')
      .map(({ r }) => [r.Type, r.DeletionPolicy]);
    expect(kept).toEqual(
      expect.arrayContaining(
        Object.entries(KEPT).filter(([type]) => type !== 'AWS::RDS::DBCluster' || 'database' in overrides),
      ),
    );
    for (const [type, policy] of kept) {
      expect(KEPT[type!]).toBe(policy);
    }
  });

  test('every log group is deleted with its stack and keeps logs for logRetentionDays', () => {
    const groups = all.filter(({ r }) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(10);
    for (const { stack, id, r } of groups) {
      expect({
        stack,
        id,
        deletion: r.DeletionPolicy,
        replace: r.UpdateReplacePolicy,
        days: r.Properties?.RetentionInDays,
      }).toEqual({
        stack,
        id,
        deletion: 'Delete',
        replace: 'Delete',
        days: RETENTION,
      });
    }
  });

  test('every function, CDK custom-resource providers included, logs to a log group of its stack', () => {
    for (const [stack, t] of Object.entries(templates)) {
      for (const [id, r] of Object.entries(t.Resources).filter(
        ([, r]) => r.Type === 'AWS::Lambda::Function',
      )) {
        const group = (r.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup
          ?.Ref;
        expect({ stack, id, logsTo: group && t.Resources[group]?.Type }).toEqual({
          stack,
          id,
          logsTo: 'AWS::Logs::LogGroup',
        });
      }
    }
  });
});
