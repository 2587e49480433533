/**
 * keepIdleWarm with auto scaling: an EventBridge schedule runs the follow-live step every minute, so between
 * releases the idle color follows the live color's count (lambda/workflow/follow-live.ts). A missed minute is
 * simply the next one's work: no retries, no dead-letter queue.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export function followLiveEveryMinute(scope: Construct, appName: string, fn: lambda.IFunction): events.Rule {
  return new events.Rule(scope, 'FollowLiveSchedule', {
    description:
      `bluegreen ${appName}: every minute between releases, the idle color (kept warm) follows the live ` +
      "color's count",
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
  });
}
