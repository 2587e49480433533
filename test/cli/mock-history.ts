/**
 * Step Functions history events as the CLI tests' mocked executions carry them (oldest first, one second apart), and
 * the release state a test's execution carries.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Release } from '../../lambda/shared/release';
import { REGION, REPO } from './mock-aws-names';

let clock = Date.parse('2026-11-26T10:00:00Z');

/** History events as Step Functions writes them, oldest first, one second apart. */
export const history = {
  reset(at = '2026-11-26T10:00:00Z'): void {
    clock = Date.parse(at);
  },
  started(input: unknown): HistoryEvent {
    return event('ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input) } });
  },
  entered(name: string, type: string, state: unknown): HistoryEvent {
    return event(`${type}StateEntered`, { stateEnteredEventDetails: { name, input: JSON.stringify(state) } });
  },
  exited(name: string, type: string, state: unknown): HistoryEvent {
    return event(`${type}StateExited`, { stateExitedEventDetails: { name, output: JSON.stringify(state) } });
  },
  scheduledCallback(token: string, state: unknown): HistoryEvent {
    return event('TaskScheduled', {
      taskScheduledEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        region: REGION,
        parameters: JSON.stringify({
          FunctionName: 'arn:aws:lambda:...:function:AwaitApproval',
          Payload: { ...(state as object), taskToken: token },
        }),
      },
    });
  },
  taskFailed(error: string, cause: string): HistoryEvent {
    return event('TaskFailed', {
      taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error, cause },
    });
  },
  taskSucceeded(output: unknown): HistoryEvent {
    return event('TaskSucceeded', {
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke',
        output: JSON.stringify(output),
      },
    });
  },
  succeeded(output: unknown): HistoryEvent {
    return event('ExecutionSucceeded', {
      executionSucceededEventDetails: { output: JSON.stringify(output) },
    });
  },
  failed(error: string, cause: string): HistoryEvent {
    return event('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
  },
};

function event(type: string, details: Partial<HistoryEvent>): HistoryEvent {
  clock += 1000;
  return { type: type as HistoryEvent['type'], timestamp: new Date(clock), id: 0, ...details };
}

/** The release a running execution carries after Prepare: blue live on v1, releasing v2 to green. */
export function releaseOf(image = `${REPO}:v2`): Release {
  return {
    image,
    version: image.split(':').pop()!,
    live: 'blue',
    idle: 'green',
    liveCount: 2,
    idleBefore: {
      count: 0,
      image: `${REPO}:v1`,
      revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:3',
    },
    timings: {
      bakeSeconds: 300,
      watchIntervalSeconds: 10,
      failureThreshold: 3,
      deployTimeoutSeconds: 900,
      deployPollSeconds: 15,
      finishDelaySeconds: 300,
    },
    startedAt: '2026-11-26T10:00:00.000Z',
    revision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4',
  };
}
