import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ME, MockAws, REPO, history, releaseOf, type Execution } from './mock-aws';
import { bluegreen, terminal } from './support';

let aws: MockAws;
beforeEach(() => {
  aws = new MockAws();
  history.reset();
});
afterEach(() => aws.restore());

/** Plays a release's history out over successive reads, as Step Functions would write it. */
function playOut(batches: ((e: Execution) => void)[]): void {
  let read = 0;
  aws.onHistoryRead = (e) => {
    batches[read++]?.(e);
  };
}

const state = { execution: 'v2-20261126T100500Z', release: releaseOf() };

describe('bluegreen release', () => {
  test("starts an execution of the stack's state machine with the image and who started it", async () => {
    const { code, out } = await bluegreen(`release --image ${REPO}:v2`);

    expect(code).toBe(0);
    const start = aws.sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(start.stateMachineArn).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:bluegreen-shop-release',
    );
    expect(start.name).toBe('v2-20261126T100500Z');
    expect(JSON.parse(start.input!)).toEqual({ image: `${REPO}:v2`, startedBy: ME });
    expect(out).toContain('Release v2-20261126T100500Z started');
    expect(out).toContain(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/',
    );
  });

  test('in a GitHub Actions job, the run goes into startedBy', async () => {
    const t = terminal({
      env: {
        GITHUB_ACTIONS: 'true',
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_SHA: 'abcdef1234',
        GITHUB_RUN_ID: '42',
      },
    });
    await bluegreen(`release --image ${REPO}:v2`, t);
    const input = JSON.parse(aws.sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);
    expect(input.startedBy).toBe(`${ME} via GitHub Actions acme/shop@abcdef1 run 42`);
  });

  test('--wait streams each state entered and left with durations (one line when both fall in one read), exits 0 when live', async () => {
    playOut([
      (e) => e.events.push(history.started({ image: `${REPO}:v2` }), history.entered('Start', 'Pass', {})),
      (e) =>
        e.events.push(
          history.exited('Start', 'Pass', {}),
          history.entered('Deploy to idle color', 'Task', state),
          history.exited('Deploy to idle color', 'Task', state),
        ),
      (e) => e.events.push(history.entered('Switch traffic', 'Task', state)),
      (e) =>
        e.events.push(
          history.taskFailed('Lambda.ServiceException', 'transient'),
          history.taskSucceeded(state), // the retry worked
          history.exited('Switch traffic', 'Task', state),
          history.entered('Released', 'Succeed', state),
          history.exited('Released', 'Succeed', state),
          history.succeeded(state),
        ),
    ]);
    const { code, out } = await bluegreen(`release --image ${REPO}:v2 --wait`);

    expect(code).toBe(0);
    const lines = out.split('\n').slice(2);
    expect(lines).toEqual([
      '10:00:02 entered Start',
      '10:00:03 ✓ Start 1.0s',
      '10:00:05 ✓ Deploy to idle color 1.0s',
      '10:00:06 entered Switch traffic',
      '10:00:07 ! Switch traffic: Lambda.ServiceException: transient',
      '10:00:09 ✓ Switch traffic 3.0s',
      '10:00:11 ✓ Released 1.0s',
      `10:00:12 Released: ${REPO}:v2 is live on green`,
    ]);
  });

  test('--wait reads a long history page by page, each event once', async () => {
    playOut([
      (e) => {
        e.events.push(history.started({}));
        for (let i = 0; i < 220; i++) {
          e.events.push(
            history.entered('Bake: wait', 'Wait', state),
            history.exited('Bake: wait', 'Wait', state),
          );
        }
      },
      (e) => e.events.push(history.entered('Released', 'Succeed', state), history.succeeded(state)),
    ]);
    const { code, out } = await bluegreen(`release --image ${REPO}:v2 --wait`);
    expect(code).toBe(0);
    expect(out.split('\n').filter((l) => l.includes('✓ Bake: wait'))).toHaveLength(220);
    expect(out.split('\n').filter((l) => l.includes('entered Released'))).toHaveLength(1);
  });

  test('--wait exits 1 on a rolled-back release and prints the error and its human cause', async () => {
    const cause = JSON.stringify({
      errorType: 'RolledBack',
      errorMessage: 'UnhealthyAfterSwitch: 3 checks failed. Rolled back: all traffic is on blue again.',
    });
    playOut([
      (e) => e.events.push(history.started({}), history.entered('Roll back', 'Task', state)),
      (e) => e.events.push(history.exited('Roll back', 'Task', state), history.failed('RolledBack', cause)),
    ]);
    const { code, out } = await bluegreen(`release --image ${REPO}:v2 --wait`);

    expect(code).toBe(1);
    expect(out).toContain('Release failed: RolledBack');
    expect(out).toContain(
      '  UnhealthyAfterSwitch: 3 checks failed. Rolled back: all traffic is on blue again.',
    );
  });

  test('--wait --json prints one stable JSON object per line, ending with the outcome', async () => {
    playOut([
      (e) => e.events.push(history.started({}), history.entered('Prepare', 'Task', {})),
      (e) =>
        e.events.push(
          history.failed('InvalidInput', 'Invalid release input; nothing was changed. image: ...'),
        ),
    ]);
    const { code, out } = await bluegreen(`release --image ${REPO}:v2 --wait --json`);

    expect(code).toBe(1);
    const lines = out.split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['started', 'entered', 'finished']);
    expect(lines[0]).toMatchObject({ release: 'v2-20261126T100500Z', image: `${REPO}:v2`, startedBy: ME });
    expect(lines[2]).toEqual({
      event: 'finished',
      at: '2026-11-26T10:00:03.000Z',
      status: 'FAILED',
      error: 'InvalidInput',
      cause: 'Invalid release input; nothing was changed. image: ...',
    });
  });

  test('--wait gives up at its deadline with exit 2; the release itself goes on', async () => {
    playOut([(e) => e.events.push(history.started({}), history.entered('Bake: wait', 'Wait', state))]);
    const { code, err } = await bluegreen(`release --image ${REPO}:v2 --wait --timeout 1`);
    expect(code).toBe(2);
    expect(err).toContain('WaitTimeout: Stopped following');
    expect(err).toContain('the release itself goes on');
  });

  test('a second release while one is in flight is refused clearly, and nothing is started', async () => {
    aws.executions.push({
      name: 'v1-20261126T095000Z',
      status: 'RUNNING',
      input: '{}',
      start: new Date('2026-11-26T09:50:00Z'),
      events: [history.started({}), history.entered('Bake: wait', 'Wait', state)],
    });
    const { code, err } = await bluegreen(`release --image ${REPO}:v3`);

    expect(code).toBe(1);
    expect(err).toBe(
      `ReleaseInProgress: Release v1-20261126T095000Z (${REPO}:v2) is in flight for shop, in "Bake: wait"; ` +
        `${REPO}:v3 was not started. Wait for it to end (bluegreen status), or answer it if it waits for approval ` +
        '(bluegreen approve | reject).',
    );
    expect(aws.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('a lock held without a running execution (an operator rolling back) also refuses the release', async () => {
    aws.lock = {
      owner: 'manual-rollback-1',
      image: `${REPO}:v1`,
      since: '2026-11-26T10:04:00.000Z',
      expiresAt: Date.parse('2026-11-26T10:14:00Z') / 1000,
    };
    const { code, err } = await bluegreen(`release --image ${REPO}:v3`);
    expect(code).toBe(1);
    expect(err).toContain('ReleaseInProgress: manual-rollback-1');
    expect(aws.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('usage errors exit 2: no image, a malformed image, an unknown option', async () => {
    expect((await bluegreen('release')).code).toBe(2);
    const bad = await bluegreen('release --image nginx');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--image must be "<repository>:<tag>"');
    expect((await bluegreen(`release --image ${REPO}:v2 --colour green`)).code).toBe(2);
    expect(aws.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('AWS access errors exit 2 with a hint: no stack, no credentials, access denied', async () => {
    aws.stackExists = false;
    const missing = await bluegreen(`release --image ${REPO}:v2`);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('AppNotFound: No stack "shop" in eu-west-1: deploy the app first');

    aws.stackExists = true;
    const denied = new Error('User is not authorized to perform: sts:GetCallerIdentity');
    denied.name = 'AccessDenied';
    aws.sts.on(GetCallerIdentityCommand).rejects(denied);
    const refused = await bluegreen(`release --image ${REPO}:v2`);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('AccessDenied: AWS refused the call (the README lists the permissions');
  });

  test('without an app name anywhere, it says how to give one (exit 2)', async () => {
    const { code, err } = await bluegreen('status', terminal({ env: { BLUEGREEN_APP: '' } }));
    expect(code).toBe(2);
    expect(err).toContain('AppUnknown: Which app? Pass --app <name>');
  });

  test('every command has help (exit 0)', async () => {
    for (const command of ['', 'release', 'status', 'rollback', 'approve', 'reject', 'history']) {
      const { code, out } = await bluegreen(`${command} --help`);
      expect(code).toBe(0);
      expect(out).toContain('Usage: bluegreen');
    }
  });
});
