/**
 * Every synthesized release state machine, for every shape the config gives it, against the States Language's
 * structural rules (test/support/asl-rules.ts): what Step Functions refuses at deploy time even though
 * CloudFormation's schema, cfn-lint and the local runner accept it.
 */
import { aslProblems } from './support/asl-rules';
import { compiledWorkflowOf } from './support/run-workflow';
import type { synth } from './support/synth';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
const MIGRATIONS = { command: ['node', 'migrate.js'], timeoutMinutes: 5 };

const VARIANTS: Record<string, Parameters<typeof synth>[0]> = {
  'ecs, defaults': {},
  'asg, defaults': { platform: 'asg' },
  'ecs, HTTPS, gate that aborts on timeout': {
    listeners: { certificateArn: CERTIFICATE, domainName: 'shop.example.com' },
    approval: { at: 'before-switch', timeoutMinutes: 30, onTimeout: 'abort' },
  },
  'asg, gate that approves on timeout': {
    platform: 'asg',
    approval: { at: 'before-switch', timeoutMinutes: 30, onTimeout: 'approve' },
  },
  'ecs, migrations': { migrations: MIGRATIONS },
  'ecs, migrations, keepIdleWarm': { migrations: MIGRATIONS, keepIdleWarm: true },
  'asg, migrations': { platform: 'asg', migrations: MIGRATIONS },
  'asg, migrations, keepIdleWarm, database': {
    platform: 'asg',
    migrations: MIGRATIONS,
    keepIdleWarm: true,
    database: {},
  },
  'ecs, lifecycle hooks (all three), canary': {
    release: {
      strategy: 'canary:10:5m',
      hooks: {
        beforeDeploy: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission' },
        afterShift: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-production-tests' },
        onRollback: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-page-on-call' },
      },
    },
  },
  'ecs, everything at once': {
    listeners: { certificateArn: CERTIFICATE, domainName: 'shop.example.com' },
    approval: { at: 'before-switch', timeoutMinutes: 30, onTimeout: 'approve' },
    migrations: MIGRATIONS,
    database: {},
    keepIdleWarm: true,
    redis: { enabled: true },
    release: {
      validationHookArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-tests',
      smokeChecks: [{ path: '/health' }, { path: '/version', expectVersion: true }],
    },
  },
};

describe('every synthesized state machine follows the States Language', () => {
  test.each(Object.keys(VARIANTS))('%s', (name) => {
    const { definition } = compiledWorkflowOf(VARIANTS[name]);
    expect(Object.keys(definition.States).length).toBeGreaterThan(10);
    expect(aslProblems(definition)).toEqual([]);
  });
});

/** The rules themselves, each on a definition that breaks it (so an empty list above means something). */
describe('aslProblems', () => {
  const task = (extra: Record<string, unknown> = {}) => ({
    Type: 'Task',
    Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
    End: true,
    ...extra,
  });
  const machine = (states: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    StartAt: Object.keys(states)[0],
    TimeoutSeconds: 3600,
    // (JSON drops the fields a test sets to undefined, as the synthesized definition would not have them.)
    States: JSON.parse(JSON.stringify(states)) as Record<string, unknown>,
    ...extra,
  });

  test('a valid machine has no problems', () => {
    expect(
      aslProblems(
        machine({
          Start: { Type: 'Pass', Next: 'Work' },
          Work: task({
            End: undefined,
            Next: 'Done',
            Retry: [
              { ErrorEquals: ['Verdict'], MaxAttempts: 0 },
              { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 2 },
            ],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Failed', ResultPath: '$.failure' }],
          }),
          Done: { Type: 'Succeed' },
          Failed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' },
        }),
      ),
    ).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an empty ErrorEquals',
      { Work: task({ Retry: [{ ErrorEquals: [], MaxAttempts: 0 }] }) },
      /ErrorEquals must be a non-empty/,
    ],
    [
      'States.ALL with other errors',
      { Work: task({ Retry: [{ ErrorEquals: ['States.ALL', 'X'] }] }) },
      /"States.ALL" must appear alone/,
    ],
    [
      'States.ALL before another retrier',
      { Work: task({ Retry: [{ ErrorEquals: ['States.ALL'] }, { ErrorEquals: ['X'] }] }) },
      /"States.ALL" must be the last one/,
    ],
    [
      'a catcher to nowhere',
      { Work: task({ Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Nowhere' }] }) },
      /Catch\[0\].Next "Nowhere" names no state/,
    ],
    [
      'a Next to nowhere',
      { Work: task({ End: undefined, Next: 'Nowhere' }) },
      /Next "Nowhere" names no state/,
    ],
    ['a dead end', { Work: task({ End: undefined }) }, /dead end/],
    ['an unreachable state', { Work: task(), Orphan: { Type: 'Succeed' } }, /"Orphan": is not reachable/],
    [
      'a loop with no way out',
      { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Wait', Seconds: 1, Next: 'A' } },
      /no path from it reaches/,
    ],
    [
      'a Choice without Choices',
      { C: { Type: 'Choice', Choices: [], Default: 'E' }, E: { Type: 'Succeed' } },
      /non-empty Choices/,
    ],
    [
      'a Wait with two times',
      { W: { Type: 'Wait', Seconds: 1, SecondsPath: '$.s', End: true } },
      /exactly one of/,
    ],
    ['a Fail with Next', { F: { Type: 'Fail', Next: 'F' } }, /a Fail state may not have Next/],
    ['a Succeed with End', { S: { Type: 'Succeed', End: true } }, /a Succeed state may not have End/],
    ['a state name over 80 characters', { ['x'.repeat(81)]: task() }, /over the 80 allowed/],
    [
      'negative MaxAttempts',
      { Work: task({ Retry: [{ ErrorEquals: ['X'], MaxAttempts: -1 }] }) },
      /MaxAttempts must be a non-negative/,
    ],
    [
      'BackoffRate under 1',
      { Work: task({ Retry: [{ ErrorEquals: ['X'], BackoffRate: 0.5 }] }) },
      /BackoffRate must be a number of at least 1/,
    ],
    [
      'IntervalSeconds of 0',
      { Work: task({ Retry: [{ ErrorEquals: ['X'], IntervalSeconds: 0 }] }) },
      /IntervalSeconds must be a positive/,
    ],
    [
      'Retry on a Pass',
      { P: { Type: 'Pass', End: true, Retry: [{ ErrorEquals: ['X'] }] } },
      /a Pass state may not have Retry/,
    ],
    [
      'a callback without a timeout',
      { Work: task({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken' }) },
      /waits on something outside Step Functions/,
    ],
    [
      'a .sync job without a timeout',
      { Work: task({ Resource: 'arn:aws:states:::ecs:runTask.sync' }) },
      /waits on something outside Step Functions/,
    ],
    [
      'HeartbeatSeconds not under TimeoutSeconds',
      { Work: task({ TimeoutSeconds: 5, HeartbeatSeconds: 5 }) },
      /HeartbeatSeconds must be smaller/,
    ],
    [
      'a path without "$"',
      { P: { Type: 'Pass', End: true, ResultPath: 'result' } },
      /ResultPath must be a path/,
    ],
    [
      'a ".$" field that is no path',
      { P: { Type: 'Pass', End: true, Parameters: { 'a.$': 'b' } } },
      /Parameters.a.\$ must be a path/,
    ],
  ])('%s', (_, states, problem) => {
    expect(aslProblems(machine(states))).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  test('StartAt must name a state, and the machine needs a global timeout', () => {
    expect(aslProblems({ StartAt: 'Missing', States: { A: { Type: 'Succeed' } } })).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/no TimeoutSeconds/),
        expect.stringMatching(/StartAt "Missing" names no state/),
      ]),
    );
  });
});
