/**
 * `bluegreen approve` / `bluegreen reject`: answer the manual gate (config `approval: before-switch`) of the
 * release in flight, with the task token it waits on (SendTaskSuccess / SendTaskFailure). Who answered goes with
 * the answer, so the execution's history and the outcome say it.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { Approval } from '../../lambda/shared/release';
import { REJECTED } from '../../lambda/workflow/approval';
import { releaseInFlight } from '../execution';
import { colorName, EXIT, paint, refused, type CliIo, type ExitCode } from '../io';
import type { AwsSession } from '../target';

export type GateAnswer =
  | { readonly approve: true; readonly comment?: string }
  | { readonly approve: false; readonly reason?: string };

export async function answerGate(
  session: AwsSession,
  io: CliIo,
  answer: GateAnswer,
  options: { json?: boolean; release?: string },
): Promise<ExitCode> {
  const target = await session.target();
  const flight = await releaseInFlight(session.sfn, target.stateMachineArn);
  if (!flight) {
    throw refused('NothingWaiting', `No release of ${target.app} is in flight, so none waits for approval.`);
  }
  if (options.release && options.release !== flight.name) {
    throw refused(
      'OtherRelease',
      `The release in flight is ${flight.name}, not ${options.release}; nothing was answered.`,
    );
  }
  if (!flight.approval) {
    throw refused(
      'NotWaitingForApproval',
      `Release ${flight.name} is in "${flight.state ?? '?'}", not waiting for approval` +
        ' (the gate comes after "Validate idle color" when the app is configured with approval: before-switch).',
    );
  }
  const me = await session.caller();
  const release = flight.release;
  try {
    if (answer.approve) {
      const approval: Approval = {
        approvedBy: me,
        at: io.now().toISOString(),
        ...(answer.comment ? { comment: answer.comment } : {}),
      };
      await session.sfn.send(
        new SendTaskSuccessCommand({ taskToken: flight.approval.token, output: JSON.stringify(approval) }),
      );
    } else {
      await session.sfn.send(
        new SendTaskFailureCommand({
          taskToken: flight.approval.token,
          error: REJECTED,
          cause: `Rejected by ${me}: ${answer.reason ?? 'no reason given'}.`,
        }),
      );
    }
  } catch (e) {
    const error = e as Error;
    if (['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(error.name)) {
      throw refused(
        'GateClosed',
        `Release ${flight.name} stopped waiting before the answer arrived (${error.name}: it timed out, or someone ` +
          'answered first). See bluegreen status.',
      );
    }
    throw e;
  }
  if (options.json) {
    io.out(
      JSON.stringify({
        release: flight.name,
        answer: answer.approve ? 'approved' : 'rejected',
        by: me,
        image: release?.image,
      }),
    );
  } else if (answer.approve) {
    io.out(
      `${paint(io, 'green', 'Approved')} release ${flight.name} (${release?.image ?? '?'}): production traffic moves to ` +
        `${colorName(io, release?.idle ?? 'the new color')} now. Follow it with bluegreen status.`,
    );
  } else {
    io.out(
      `${paint(io, 'red', 'Rejected')} release ${flight.name} (${release?.image ?? '?'}): it aborts; traffic stays on ` +
        `${colorName(io, release?.live ?? 'the live color')}.`,
    );
  }
  return EXIT.ok;
}
