import { GetExecutionHistoryCommand, SFNClient, type SFNClientConfig } from '@aws-sdk/client-sfn';

/** How many of an execution's last history events are read to find the state it ended in (one call). */
export const HISTORY_EVENTS = 100;

/** A release execution's history (Step Functions), as far as the Stopped step needs it. */
export class ExecutionHistory {
  static create(config: SFNClientConfig): ExecutionHistory {
    return new ExecutionHistory(new SFNClient(config));
  }

  constructor(private readonly sfn: SFNClient) {}

  /**
   * The last state the execution entered (for a Fail state, the one it failed in; for a Task without a Catch,
   * that Task), from its newest events; undefined when none is among them.
   */
  async lastStateEntered(executionArn: string): Promise<string | undefined> {
    const out = await this.sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: HISTORY_EVENTS,
        includeExecutionData: false,
      }),
    );
    return (out.events ?? []).find((e) => e.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
  }
}
