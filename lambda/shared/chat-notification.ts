/**
 * The SNS message of an outcome, as an AWS Chatbot (Amazon Q Developer in chat applications) custom notification:
 * Chatbot delivers only messages from AWS services it knows and messages in this schema, and drops anything else.
 * https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 *
 * The title is the outcome's one line (outcome-line.ts); the description carries the error and the cause; the
 * whole outcome, as published on EventBridge, is in `metadata.additionalContext.outcome` (a JSON string: the
 * schema's additionalContext values are strings) for machine subscribers.
 */
import type { ReleaseOutcome } from './ports';
import { outcomeLine, truncate, versionOf } from './outcome-line';

export interface CustomNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps?: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    /** Every message of one release (gate, shift steps, outcome) in one chat thread. */
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly additionalContext: { readonly outcome: string };
  };
}

/** The EventBridge detail type (and SNS subject) of each status. */
export const DETAIL_TYPE: Record<ReleaseOutcome['status'], string> = {
  SUCCEEDED: 'Release Succeeded',
  ROLLED_BACK: 'Release Rolled Back',
  ABORTED: 'Release Aborted',
  REFUSED: 'Release Refused',
  ROLLBACK_FAILED: 'Rollback Failed',
  STOPPED: 'Release Stopped',
  CONTRACT_FAILED: 'Contract Migrations Failed',
  APPROVAL_REQUIRED: 'Release Awaiting Approval',
  SHIFT_STEP: 'Release Shift Step Judged',
};

const EMOJI: Record<ReleaseOutcome['status'], string> = {
  SUCCEEDED: ':white_check_mark:',
  ROLLED_BACK: ':leftwards_arrow_with_hook:',
  ABORTED: ':no_entry_sign:',
  REFUSED: ':no_entry_sign:',
  ROLLBACK_FAILED: ':rotating_light:',
  STOPPED: ':octagonal_sign:',
  CONTRACT_FAILED: ':warning:',
  APPROVAL_REQUIRED: ':raised_hand:',
  SHIFT_STEP: ':bar_chart:',
};

/**
 * Slack's limit for a section's text is 3,000 characters: the description stays under it (the cause is cut,
 * the full one is in the outcome JSON).
 */
export const DESCRIPTION_MAX = 3000;
/** SNS takes messages of up to 256 KiB (262,144 bytes, UTF-8). */
export const SNS_MESSAGE_MAX_BYTES = 262_144;

export function chatNotification(outcome: ReleaseOutcome): CustomNotification {
  const line = outcomeLine(outcome);
  return {
    version: '1.0',
    source: 'custom',
    id: `${outcome.release}-${outcome.status}${outcome.step ? `-${outcome.step.step}-${outcome.step.window.end}` : ''}`,
    content: {
      textType: 'client-markdown',
      title: `${EMOJI[outcome.status]} ${line}`,
      description: description(outcome),
      ...nextSteps(outcome),
      keywords: [
        outcome.app,
        DETAIL_TYPE[outcome.status],
        ...(outcome.image ? [versionOf(outcome.image)] : []),
      ],
    },
    metadata: {
      threadId: `bluegreen-${outcome.app}-${outcome.release}`,
      summary: line,
      eventType: DETAIL_TYPE[outcome.status],
      additionalContext: { outcome: JSON.stringify(outcome) },
    },
  };
}

/**
 * The notification as the SNS message: JSON within SNS's 256 KiB. An outcome too large for it (a cause of many
 * thousand characters) keeps everything but the end of its cause in the outcome JSON, and says so.
 */
export function chatMessage(outcome: ReleaseOutcome): string {
  let message = JSON.stringify(chatNotification(outcome));
  const cause = outcome.cause ?? '';
  let keep = cause.length;
  // Only a cause of many thousand characters can pass the limit (the description is cut already): shorten the
  // one in the outcome JSON by what is over (in characters, at the cause's bytes per character), and say so.
  const perChar = cause ? utf8Bytes(cause) / cause.length : 1;
  for (let over = utf8Bytes(message) - SNS_MESSAGE_MAX_BYTES; over > 0 && keep > 0;) {
    keep = Math.max(0, keep - Math.ceil(over / perChar) - 64);
    const cut = `${cause.slice(0, keep)} [cut to fit SNS's 256 KiB message limit]`;
    message = JSON.stringify(chatNotification({ ...outcome, cause: cut }));
    over = utf8Bytes(message) - SNS_MESSAGE_MAX_BYTES;
  }
  return message;
}

export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function description(o: ReleaseOutcome): string {
  const facts = [
    `*Release* \`${o.release}\``,
    ...(o.image ? [`*Image* \`${o.image}\``] : []),
    ...(o.liveColor ? [`*Live* ${o.liveColor}`] : []),
    ...(o.error ? [`*Error* \`${o.error}\``] : []),
  ].join('  ·  ');
  const head = `${facts}\n`;
  if (!o.cause) {
    return head.trimEnd();
  }
  // The cause verbatim in a code block: no markdown in it is interpreted (alarm names with _ or *).
  const fence = '```';
  const room = DESCRIPTION_MAX - head.length - 2 * fence.length - 2;
  return `${head}${fence}\n${truncate(o.cause.replace(/`/g, "'"), room)}\n${fence}`;
}

function nextSteps(o: ReleaseOutcome): { nextSteps?: readonly string[] } {
  const cli = `npx bluegreen --app ${o.app}`;
  const steps: Partial<Record<ReleaseOutcome['status'], string[]>> = {
    APPROVAL_REQUIRED: [
      `Approve: \`${cli} approve --release ${o.release}\``,
      `Reject: \`${cli} reject --release ${o.release} --reason "why"\``,
    ],
    ROLLBACK_FAILED: [
      `Check where traffic and the record are: \`${cli} status\``,
      'Then move production traffic back by hand, as the cause says',
    ],
    STOPPED: [`Check where traffic and the record are: \`${cli} status\``],
    CONTRACT_FAILED: ['Fix what made the contract fail: it runs again at the start of the next release'],
  };
  const chosen = steps[o.status];
  return chosen ? { nextSteps: chosen } : {};
}
