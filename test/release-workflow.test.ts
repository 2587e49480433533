import { Match } from 'aws-cdk-lib/assertions';
import { STATES } from '../lib/constructs/release-workflow';
import { HOOK_STATES, MIGRATION_STATES } from '../lambda/shared/state-names';
import { compiledWorkflow } from './support/run-workflow';
import { resourcesOfType, synth } from './support/synth';

type State = {
  Type: string;
  Retry?: {
    ErrorEquals: string[];
    MaxAttempts?: number;
    IntervalSeconds?: number;
    JitterStrategy?: string;
  }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[];
  Next?: string;
  ErrorPath?: string;
  CausePath?: string;
};

describe('release workflow (state machine and its steps)', () => {
  const { service, serviceJson, stacks } = synth();
  const { definition } = compiledWorkflow();
  const states = (
    definition as unknown as { States: Record<string, State>; TimeoutSeconds: number; StartAt: string }
  ).States;
  const policiesOf = (prefix: string) =>
    Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith(`ReleaseWorkflowSteps${prefix}Role`))
      .flatMap(
        ([, p]) =>
          (p.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
      );
  const actionsOf = (prefix: string) => policiesOf(prefix).flatMap((s) => [s.Action].flat());

  test('a Standard state machine with logging of all events, tracing and a global timeout', () => {
    service.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'bluegreen-shop-release',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    expect((definition as unknown as { TimeoutSeconds: number }).TimeoutSeconds).toBe(120 * 60);
  });

  test('its states carry the names an operator reads in the console', () => {
    // Without a manual gate or migrations (the default), their states are not there.
    const gateStates: string[] = [STATES.approval, STATES.approvalTimedOut, STATES.approvedOnTimeout];
    const optional = [...gateStates, ...MIGRATION_STATES, ...HOOK_STATES];
    expect(Object.keys(states).sort()).toEqual(
      Object.values(STATES)
        .filter((s) => !optional.includes(s))
        .sort(),
    );
    // With migrations, every migration state is there (and the ones without migrations stay).
    const withMigrations = compiledWorkflow({ migrations: true }).definition.States;
    expect(Object.keys(withMigrations).sort()).toEqual(
      Object.values(STATES)
        .filter((s) => !gateStates.includes(s) && !HOOK_STATES.includes(s))
        .sort(),
    );
  });

  test('failures are caught by name and routed: refusal, abort before the switch, rollback after it', () => {
    const catchTarget = (state: string) =>
      states[state].Catch?.map((c) => [c.ErrorEquals.join(), c.Next, c.ResultPath]);
    expect(catchTarget(STATES.prepare)).toEqual([['States.ALL', STATES.refuse, '$.failure']]);
    for (const beforeSwitch of [STATES.deploy, STATES.checkIdle, STATES.validate]) {
      expect(catchTarget(beforeSwitch)).toEqual([['States.ALL', STATES.abort, '$.failure']]);
    }
    // The idle color re-checked just before the switch is not ready, or never caught up with the live color's
    // scaling: traffic never moved, so abort.
    expect(catchTarget(STATES.switch)).toEqual([
      ['IdleNotReady,CapacityCatchingUp', STATES.abort, '$.failure'],
      ['States.ALL', STATES.rollback, '$.failure'],
    ]);
    expect(catchTarget(STATES.watch)).toEqual([['States.ALL', STATES.rollback, '$.failure']]);
    // A gradual shift: before its first step moved traffic, the new color not ready aborts; afterwards every
    // failure (a verdict, a moved listener, the new color lost) rolls back to the old color.
    expect(catchTarget(STATES.shift)).toEqual([
      ['IdleNotReady', STATES.abort, '$.failure'],
      ['States.ALL', STATES.rollback, '$.failure'],
    ]);
    expect(catchTarget(STATES.analyse)).toEqual([['States.ALL', STATES.rollback, '$.failure']]);
    // The listener changed between the bake and Finish: the old color is still warm, roll back to it.
    expect(catchTarget(STATES.finish)).toEqual([
      ['TrafficMovedDuringRelease,UnhealthyAfterSwitch', STATES.rollback, '$.failure'],
      ['States.ALL', STATES.finishFailed, '$.finishFailure'],
    ]);
    expect(catchTarget(STATES.rollback)).toEqual([
      ['States.ALL', STATES.reportRollbackFailure, '$.rollbackFailure'],
    ]);
    // The Fail states take the error and cause the steps wrote.
    for (const fail of [STATES.refused, STATES.aborted, STATES.rolledBack, STATES.rollbackFailed]) {
      expect(states[fail]).toMatchObject({
        Type: 'Fail',
        ErrorPath: '$.outcome.error',
        CausePath: '$.outcome.cause',
      });
    }
  });

  test('retries: throttling everywhere with full jitter; a failed bake check is a verdict, never retried', () => {
    for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
      const throttling = state.Retry?.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
      expect({ name, jitter: throttling?.JitterStrategy }).toEqual({ name, jitter: 'FULL' });
    }
    const watchRetry = states[STATES.watch].Retry!.filter(
      (r) => !r.ErrorEquals.some((e) => e.startsWith('Lambda.')),
    );
    expect(watchRetry.map((r) => [r.ErrorEquals.join(), r.MaxAttempts])).toEqual([
      ['UnhealthyAfterSwitch,TrafficMovedDuringRelease', 0],
      ['States.ALL', 2],
    ]);
    // Verdicts of the re-checks are never retried either.
    const verdictRetries = (state: string) =>
      states[state].Retry!.filter((r) => r.MaxAttempts === 0).map((r) => r.ErrorEquals.join());
    expect(verdictRetries(STATES.switch)).toEqual([
      'IdleNotReady,UnhealthyDuringShift,TrafficMovedDuringRelease',
    ]);
    expect(verdictRetries(STATES.shift)).toEqual([
      'IdleNotReady,UnhealthyDuringShift,TrafficMovedDuringRelease',
    ]);
    expect(verdictRetries(STATES.analyse)).toEqual([
      'AnalysisFailed,AnalysisInconclusive,UnhealthyDuringShift,TrafficMovedDuringRelease',
    ]);
    expect(verdictRetries(STATES.finish)).toEqual(['TrafficMovedDuringRelease,UnhealthyAfterSwitch']);
    for (const idempotent of [STATES.switch, STATES.rollback]) {
      expect(
        states[idempotent].Retry!.some((r) => r.ErrorEquals.includes('States.ALL') && r.MaxAttempts === 3),
      ).toBe(true);
    }
  });

  test('thirteen step functions on the newest Node.js runtime, ARM64, traced, logging JSON', () => {
    const steps = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('ReleaseWorkflowSteps'),
    );
    expect(steps).toHaveLength(13);
    for (const [, fn] of steps) {
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: expect.objectContaining({ LogFormat: 'JSON' }),
      });
    }
  });

  test('only the validation step runs in the VPC: it alone leaves through the NAT address the test port admits', () => {
    const inVpc = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function'))
      .filter(([, fn]) => fn.VpcConfig !== undefined)
      .map(([id]) => id);
    expect(inVpc).toEqual([expect.stringMatching(/^ReleaseWorkflowStepsValidateFunction/)]);
    // ...and its role may manage the network interfaces a VPC function needs (without it, the deploy fails).
    const roles = Object.entries(resourcesOfType(serviceJson, 'AWS::IAM::Role'));
    const managed = roles.filter(([, r]) =>
      JSON.stringify(r.ManagedPolicyArns ?? []).includes('AWSLambdaVPCAccessExecutionRole'),
    );
    expect(managed.map(([id]) => id)).toEqual([expect.stringMatching(/^ReleaseWorkflowStepsValidateRole/)]);
  });

  test('least privilege: each step may do what its core does, on this app’s resources only', () => {
    const listener = stacks.service.resolve(stacks.service.traffic.productionListener.listenerArn);
    const rule = stacks.service.resolve(stacks.service.traffic.testRule.listenerRuleArn);
    // Only Switch and Roll back move production traffic or write the record (and Abort, which sends traffic back
    // to the live color when the listener was changed under the release, and the Stopped step, which undoes an
    // unfinished release: tested below); Deploy may point the test rule.
    for (const step of [
      'Prepare',
      'Deploy',
      'CheckDeploy',
      'Validate',
      'Watch',
      'Finish',
      'RollbackFailed',
    ]) {
      expect(actionsOf(step)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/ModifyListener|ssm:PutParameter/)]),
      );
    }
    expect(
      policiesOf('Deploy').find((s) => s.Action === 'elasticloadbalancing:ModifyRule')?.Resource,
    ).toEqual(rule);
    // Every step that scales a color down or declares the release live reads the listener first; the switch
    // re-reads the idle color (its service, its targets).
    for (const step of ['Watch', 'Finish', 'Abort', 'Rollback']) {
      expect(actionsOf(step)).toContain('elasticloadbalancing:DescribeListeners');
    }
    expect(actionsOf('Switch')).toEqual(
      expect.arrayContaining(['ecs:DescribeServices', 'elasticloadbalancing:DescribeTargetHealth']),
    );
    // Finish reads the new color's targets before the old color goes down or success is declared.
    expect(actionsOf('Finish')).toContain('elasticloadbalancing:DescribeTargetHealth');
    for (const step of ['Switch', 'Rollback', 'Abort']) {
      const statements = policiesOf(step);
      expect(statements.find((s) => s.Action === 'elasticloadbalancing:ModifyListener')?.Resource).toEqual(
        listener,
      );
      expect(statements.find((s) => s.Action === 'elasticloadbalancing:ModifyRule')?.Resource).toEqual(rule);
    }
    // Only Validate reads the test-traffic token.
    const readsSecret = [
      'Prepare',
      'Deploy',
      'CheckDeploy',
      'Validate',
      'Switch',
      'Watch',
      'Rollback',
      'Abort',
      'Finish',
      'RollbackFailed',
    ].filter((step) => actionsOf(step).includes('secretsmanager:GetSecretValue'));
    expect(readsSecret).toEqual(['Validate']);
    // Only Prepare takes the lock; the endings release it.
    expect(actionsOf('Prepare')).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem']));
    for (const step of ['Rollback', 'Abort', 'Finish', 'RollbackFailed']) {
      expect(actionsOf(step)).toEqual(
        expect.arrayContaining(['dynamodb:DeleteItem', 'sns:Publish', 'events:PutEvents']),
      );
      expect(actionsOf(step)).not.toContain('dynamodb:PutItem');
    }
    // Deploy may pass only the two colors' task and execution roles.
    const passRole = policiesOf('Deploy').find((s) => s.Action === 'iam:PassRole');
    expect(passRole?.Resource).toHaveLength(4);
  });

  test('every execution that does not succeed (failed, timed out, stopped) is handed to the Stopped step', () => {
    service.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('ReleaseWorkflowStateMachine') }],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReleaseWorkflowStepsStoppedFunction'), 'Arn'] },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 4 }),
        }),
      ],
    });
    // It reads which state the execution ended in, on this state machine's executions only, and who holds the lock.
    const history = policiesOf('Stopped').find((s) => s.Action === 'states:GetExecutionHistory');
    expect(JSON.stringify(history?.Resource)).toMatch(/:execution:bluegreen-shop-release:\*"/);
    expect(actionsOf('Stopped')).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:DeleteItem', 'sns:Publish', 'events:PutEvents']),
    );
    expect(actionsOf('Stopped')).not.toContain('dynamodb:PutItem');
    // It puts traffic back on the old color after an unfinished release: this app's listener, test rule, record;
    // it judges each color by its targets and its alarms.
    for (const [action, resource] of [
      ['elasticloadbalancing:ModifyListener', /LoadBalancerProduction/],
      ['elasticloadbalancing:ModifyRule', /IdleColorRule/],
      ['ssm:PutParameter', /parameter\/bluegreen\/shop\//],
      ['cloudwatch:DescribeAlarms', /Alarm/],
    ] as const) {
      const statement = policiesOf('Stopped').find((s) =>
        ([] as unknown[]).concat(s.Action).includes(action),
      );
      expect({ action, resource: JSON.stringify(statement?.Resource) }).toEqual({
        action,
        resource: expect.stringMatching(resource),
      });
      expect(JSON.stringify(statement?.Resource)).not.toContain('"*"');
    }
  });

  test('every Task catches every error: an ending step that fails goes to a Fail state named after it', () => {
    for (const variant of [{}, { migrations: true }, { platform: 'asg' as const, migrations: true }]) {
      const all = (compiledWorkflow(variant).definition as unknown as { States: Record<string, State> })
        .States;
      const uncaught = Object.entries(all)
        .filter(([, s]) => s.Type === 'Task' && !s.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')))
        .map(([name]) => name);
      expect({ variant, uncaught }).toEqual({ variant, uncaught: [] });
    }
    const withMigrations = compiledWorkflow({ migrations: true }).definition.States as Record<string, State>;
    const reports = [
      [states, STATES.reportRollbackFailure, STATES.rollbackReportFailed],
      [withMigrations, STATES.reportContractFailure, STATES.contractReportFailed],
    ] as const;
    for (const [all, report, fail] of reports) {
      expect(all[report].Catch).toEqual([
        { ErrorEquals: ['States.ALL'], Next: fail, ResultPath: '$.reportFailure' },
      ]);
      expect(all[fail]).toMatchObject({
        Type: 'Fail',
        ErrorPath: '$.reportFailure.Error',
        CausePath: '$.reportFailure.Cause',
      });
    }
  });

  test('an instance refresh still stopping is waited for by the state machine (Retry), never inside a step', () => {
    for (const name of [STATES.deploy, STATES.abort, STATES.rollback]) {
      const retry = states[name].Retry!;
      const busy = retry.findIndex((r) => r.ErrorEquals.includes('RefreshStillActive'));
      expect({ name, busy: busy >= 0 }).toEqual({ name, busy: true });
      expect(retry[busy]).toMatchObject({ IntervalSeconds: 20, MaxAttempts: 6, JitterStrategy: 'FULL' });
      // ...before any catch-all retrier, which would otherwise take it.
      const all = retry.findIndex((r) => r.ErrorEquals.includes('States.ALL'));
      expect(all === -1 || all > busy).toBe(true);
    }
  });

  test('the lock table keeps point-in-time recovery; the outcome topic requires TLS and is encrypted', () => {
    service.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'app', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    service.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'bluegreen-shop-releases',
      KmsMasterKeyId: Match.anyValue(),
    });
    service.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });

  test('a validation hook in the config is invoked by the validation step only', () => {
    const hook = 'arn:aws:lambda:eu-west-1:123456789012:function:api-tests';
    const withHook = synth({ release: { validationHookArn: hook } }).serviceJson;
    const invoke = Object.entries(resourcesOfType(withHook, 'AWS::IAM::Policy'))
      .filter(
        ([, p]) => JSON.stringify(p).includes('lambda:InvokeFunction') && JSON.stringify(p).includes(hook),
      )
      .map(([id]) => id);
    expect(invoke).toEqual([expect.stringMatching(/^ReleaseWorkflowStepsValidateRole/)]);
  });
});
