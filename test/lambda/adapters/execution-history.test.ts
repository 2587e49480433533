import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionHistory, HISTORY_EVENTS } from '../../../lambda/adapters/execution-history';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:bluegreen-shop-release:release-9';
const entered = (id: number, name: string, input: unknown) => ({
  id,
  timestamp: new Date(),
  type: 'TaskStateEntered' as const,
  stateEnteredEventDetails: { name, input: typeof input === 'string' ? input : JSON.stringify(input) },
});

describe('ExecutionHistory: what the Stopped step learns from an execution', () => {
  beforeEach(() => sfn.reset());

  test('the last state entered, and the release its newest input carries (one call, newest first, with data)', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 9, timestamp: new Date(), type: 'ExecutionTimedOut' },
        entered(8, 'Bake: wait', 'not JSON: cut short'),
        entered(7, 'Check new live color', {
          execution: 'release-9',
          release: { live: 'green', idle: 'blue', image: 'repo:v2', migrationTask: 'shop-migrate:7' },
        }),
        entered(2, 'Prepare', { execution: 'release-9', input: {} }),
      ],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Bake: wait',
      release: { live: 'green', image: 'repo:v2', migrationTask: 'shop-migrate:7' },
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0].args[0].input).toEqual({
      executionArn: ARN,
      reverseOrder: true,
      maxResults: HISTORY_EVENTS,
      includeExecutionData: true,
    });
  });

  test('no release past Prepare: none is reported (the Stopped step then moves nothing)', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [entered(2, 'Prepare', { execution: 'release-9', input: {} })],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Prepare',
      release: undefined,
    });
  });

  test('the rollback outcome the newest input still carries unpublished (the rollback hook ran; not reported yet)', async () => {
    const rolledBack = {
      status: 'ROLLED_BACK',
      liveColor: 'blue',
      error: 'RolledBack',
      cause: 'UnhealthyAfterSwitch: 2 of 2 targets unhealthy. Rolled back: all traffic is on blue again.',
    };
    const release = { live: 'blue', idle: 'green', image: 'repo:v2' };
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 12, timestamp: new Date(), type: 'ExecutionTimedOut' },
        entered(11, 'Rollback hook', { execution: 'release-9', release, unpublished: rolledBack }),
        entered(10, 'Start rollback hook', { execution: 'release-9', release, unpublished: rolledBack }),
      ],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Rollback hook',
      release: { live: 'blue', image: 'repo:v2' },
      unpublished: { error: 'RolledBack', cause: rolledBack.cause },
    });

    // Once "Report rollback" published it, its output (the newest input) no longer carries it: nothing to report.
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        entered(13, 'Rolled back', { execution: 'release-9', release }),
        entered(12, 'Report rollback', { execution: 'release-9', release, unpublished: rolledBack }),
      ],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Rolled back',
      release: { live: 'blue', image: 'repo:v2' },
    });
  });

  test('the outcome the ending step could not publish, from the last state entered only', async () => {
    const unsent = {
      app: 'shop',
      release: 'release-9',
      status: 'ABORTED',
      error: 'SmokeChecksFailed',
      cause:
        'Validation failed. Also: could not publish the outcome (InternalErrorException: SNS is unavailable).',
    };
    const release = { live: 'blue', idle: 'green', image: 'repo:v2' };
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        entered(21, 'Aborted', { execution: 'release-9', release, unsent }),
        entered(20, 'Abort', { execution: 'release-9', release }),
      ],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Aborted',
      release: { live: 'blue', image: 'repo:v2' },
      unsent,
    });
    // An older state's (or a malformed) one is not the ending's: nothing to publish.
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        entered(22, 'Aborted', { execution: 'release-9', release, unsent: { ...unsent, status: 'DONE' } }),
        entered(21, 'Abort', { execution: 'release-9', release, unsent }),
      ],
    });
    await expect(new ExecutionHistory(new SFNClient({})).ending(ARN)).resolves.toEqual({
      endedIn: 'Aborted',
      release: { live: 'blue', image: 'repo:v2' },
    });
  });
});
