/**
 * The manual gate (config `approval: before-switch`): the idle color passed validation and the release waits
 * for an operator before the switch. This step runs as the gate's callback task: it says what is waiting and
 * how to answer (SNS and EventBridge), then returns; the state machine itself waits for `bluegreen approve` or
 * `bluegreen reject` (SendTaskSuccess / SendTaskFailure with the task token) or for the gate's timeout.
 */
import type { WorkflowDeps } from '../shared/ports';
import { requireRelease, type ReleaseState, type WorkflowSettings } from '../shared/release';

/** The error `bluegreen reject` sends; the state machine aborts on it. */
export const REJECTED = 'Rejected';

export async function requestApproval(
  state: ReleaseState,
  deps: Pick<WorkflowDeps, 'notifier' | 'now'>,
  settings: WorkflowSettings,
): Promise<ReleaseState> {
  const release = requireRelease(state);
  const gate = settings.approval;
  if (!gate) {
    throw new Error('internal: the approval step runs only when the stack has a manual gate');
  }
  if (!state.taskToken) {
    throw new Error('internal: the approval step needs the task token ($$.Task.Token) in its payload');
  }
  const deadline = new Date(deps.now().getTime() + gate.timeoutSeconds * 1000).toISOString();
  const app = settings.appName;
  await deps.notifier.publish({
    app,
    release: state.execution,
    status: 'APPROVAL_REQUIRED',
    image: release.image,
    liveColor: release.live,
    cause:
      `${release.image} passed validation on ${release.idle} (test listener ${settings.testUrl}) and waits for ` +
      `approval before production traffic moves from ${release.live}. Approve: npx bluegreen approve --app ${app}. ` +
      `Reject: npx bluegreen reject --app ${app} --reason "<why>". Without an answer by ${deadline} the release ` +
      (gate.onTimeout === 'abort' ? 'is aborted (traffic stays on ' + release.live + ').' : 'goes ahead.'),
  });
  return state;
}
