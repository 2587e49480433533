/**
 * The recorded histories (fixtures/record.ts) are in the shape Step Functions writes them, so the report is
 * tested against what AWS answers and not against the recorder's own idea of it: SDK event types, ids and
 * previousEventIds, the legacy Lambda integration's events per attempt (the steps' Resource is a function ARN),
 * the callback task's, a Fail state without an exit, and data as JSON strings.
 */
import { HistoryEventType } from '@aws-sdk/client-sfn';
import { recordedRelease } from './fixtures/load';

const TYPES = new Set<string>(Object.values(HistoryEventType));

describe.each(['canary-approved', 'rolled-back', 'canary-rolled-back'] as const)(
  'the recorded history %s',
  (name) => {
    const { events, describe: execution } = recordedRelease(name);

    test('SDK event types, ids from 1, each pointing at the event before, times never going back', () => {
      expect(events.filter((e) => !TYPES.has(e.type!))).toEqual([]);
      expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
      expect(events.map((e) => e.previousEventId)).toEqual(events.map((_, i) => (i < 2 ? 0 : i)));
      const times = events.map((e) => e.timestamp!.getTime());
      expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
      expect(events[0].timestamp).toEqual(execution.startDate);
      expect(events[events.length - 1].timestamp).toEqual(execution.stopDate);
    });

    test('every state datum is a JSON string, never cut short', () => {
      const data = events.flatMap((e) =>
        [
          e.executionStartedEventDetails?.input,
          e.stateEnteredEventDetails?.input,
          e.stateExitedEventDetails?.output,
          e.lambdaFunctionScheduledEventDetails?.input,
          e.lambdaFunctionSucceededEventDetails?.output,
          e.taskScheduledEventDetails?.parameters,
          e.taskSucceededEventDetails?.output,
        ].filter((d): d is string => d !== undefined),
      );
      expect(data.length).toBeGreaterThan(events.length / 2);
      for (const d of data) {
        expect(() => JSON.parse(d) as unknown).not.toThrow();
      }
      expect(
        events.some(
          (e) => e.stateEnteredEventDetails?.inputDetails?.truncated !== false && e.stateEnteredEventDetails,
        ),
      ).toBe(false);
    });

    test('a Lambda step: entered, then per attempt scheduled (function ARN, input), started, succeeded or failed; then exited', () => {
      const lambdaSteps = events.filter(
        (e, i) => e.type === 'TaskStateEntered' && events[i + 1]?.type === 'LambdaFunctionScheduled',
      );
      expect(lambdaSteps.length).toBeGreaterThan(5);
      for (const entered of lambdaSteps) {
        const i = events.indexOf(entered);
        const scheduled = events[i + 1].lambdaFunctionScheduledEventDetails!;
        expect(scheduled.resource).toMatch(/^arn:aws:lambda:eu-west-1:123456789012:function:\w+$/);
        expect(scheduled.input).toBe(entered.stateEnteredEventDetails!.input);
        expect(events[i + 2].type).toBe('LambdaFunctionStarted');
        const ended = events[i + 3];
        expect(['LambdaFunctionSucceeded', 'LambdaFunctionFailed']).toContain(ended.type);
        const next = events[i + 4];
        if (ended.type === 'LambdaFunctionSucceeded') {
          expect(next.type).toBe('TaskStateExited');
          expect(next.stateExitedEventDetails!.output).toBe(
            ended.lambdaFunctionSucceededEventDetails!.output,
          );
        } else {
          // Caught: the state exits with the error at the Catch's ResultPath (or a retry schedules again).
          expect(['TaskStateExited', 'LambdaFunctionScheduled', 'ExecutionFailed']).toContain(next.type);
          expect(JSON.parse(ended.lambdaFunctionFailedEventDetails!.cause!)).toHaveProperty('errorMessage');
        }
      }
    });

    test('no Fail state exits: the execution fails right after it is entered', () => {
      const failed = events.findIndex((e) => e.type === 'FailStateEntered');
      expect(failed >= 0).toBe(execution.status === 'FAILED');
      if (failed >= 0) {
        const state = events[failed].stateEnteredEventDetails!.name;
        expect(events.filter((e) => e.stateExitedEventDetails?.name === state)).toEqual([]);
        expect(events[failed + 1].type).toBe('ExecutionFailed');
        expect(events[failed + 1].executionFailedEventDetails!.error).toBe(execution.error);
      }
    });
  },
);

test("the manual gate: the callback task's events, the answer as the task's output", () => {
  const { events } = recordedRelease('canary-approved');
  const i = events.findIndex((e) => e.stateEnteredEventDetails?.name === 'Wait for approval');
  expect(events.slice(i, i + 6).map((e) => e.type)).toEqual([
    'TaskStateEntered',
    'TaskScheduled',
    'TaskStarted',
    'TaskSubmitted',
    'TaskSucceeded',
    'TaskStateExited',
  ]);
  const scheduled = events[i + 1].taskScheduledEventDetails!;
  expect(scheduled).toMatchObject({
    resourceType: 'lambda',
    resource: 'invoke.waitForTaskToken',
    region: 'eu-west-1',
  });
  expect(JSON.parse(scheduled.parameters!)).toMatchObject({ Payload: { taskToken: expect.any(String) } });
  const answer = JSON.parse(events[i + 4].taskSucceededEventDetails!.output!) as { approvedBy: string };
  expect(JSON.parse(events[i + 5].stateExitedEventDetails!.output!)).toMatchObject({ approval: answer });
});
