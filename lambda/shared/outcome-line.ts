/**
 * One line per published outcome, for chat: app, version, what happened, and why, e.g.
 * "shop 1.4.2: rolled back — latency 1.50x blue's (120 ms against 80 ms, limit 1.25x)".
 *
 * Built from the outcome alone (its status, image, live color, error and cause, and a shift step's verdict), so
 * the notifier, the CLI and tests all say the same thing. The cause stays the full account; this line is its
 * headline, on one line and at most `max` characters.
 */
import type { ReleaseOutcome } from './ports';

/** At most 150 characters (what a Slack header block takes): a longer line is cut at a word, with "…". */
export const OUTCOME_LINE_MAX = 150;

export function outcomeLine(outcome: ReleaseOutcome, max = OUTCOME_LINE_MAX): string {
  const version = outcome.image ? versionOf(outcome.image) : outcome.release;
  const { what, why } = describe(outcome);
  const line = oneLine(`${outcome.app} ${version}: ${what}${why ? ` — ${why}` : ''}`);
  return truncate(line, max);
}

/**
 * The short name of an image: its tag ("1.4.2"), or the first 12 hex digits of its digest ("sha256:3f2a…").
 */
export function versionOf(image: string): string {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : /(?:^|\/[^/:]*:)(sha256:[a-f0-9]{64})$/.exec(image)?.[1];
  if (digest) {
    return `${digest.slice(0, 'sha256:'.length + 12)}…`;
  }
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : image.slice(slash + 1);
}

/** Cuts `text` at the last word that fits in `max` characters, with "…" (never mid-word unless one word is longer). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) {
    return text;
  }
  const room = text.slice(0, max - 1);
  const space = room.lastIndexOf(' ');
  return `${(space > max / 2 ? room.slice(0, space) : room).replace(/[\s,;:—-]+$/, '')}…`;
}

function describe(o: ReleaseOutcome): { what: string; why: string } {
  const cause = shorten(o.cause ?? '', o.image);
  switch (o.status) {
    case 'SUCCEEDED':
      return {
        what: 'released',
        why:
          `${o.liveColor ? `live on ${o.liveColor}` : firstSentence(cause)}` +
          `${o.error ? `, but ${o.error}` : ''}`,
      };
    case 'ROLLED_BACK':
      return { what: 'rolled back', why: reason(cause, o.liveColor) };
    case 'ABORTED':
      return { what: `aborted (${o.error ?? 'no error given'})`, why: reason(cause, o.liveColor) };
    case 'REFUSED':
      return { what: `refused (${o.error ?? 'no error given'})`, why: firstSentence(cause) };
    case 'ROLLBACK_FAILED': {
      const stuck = /Traffic may still be on (\w+)/.exec(cause)?.[1];
      const because = /rolling back because (\w+):/.exec(cause)?.[1];
      return {
        what: 'ROLLBACK FAILED, act now',
        why:
          `${stuck ? `traffic may still be on ${stuck}` : 'check traffic and the record'}` +
          `${because ? `; it was rolling back because of ${because}` : ''}`,
      };
    }
    case 'STOPPED': {
      const ended = /ended (\w+)(?: in "([^"]+)")?/.exec(cause);
      return {
        what: 'stopped',
        why: ended
          ? `ended ${ended[1]}${ended[2] ? ` in "${ended[2]}"` : ''}${o.error && o.error !== ended[1] ? ` (${o.error})` : ''}`
          : (o.error ?? firstSentence(cause)),
      };
    }
    case 'CONTRACT_FAILED':
      return {
        what: `live on ${o.liveColor ?? 'the new color'}, contract migrations failed`,
        why: firstSentence(cause.replace(/^The contract migrations of \S+ failed: /, '')),
      };
    case 'APPROVAL_REQUIRED':
      return {
        what: 'waits for approval',
        why: `passed validation; traffic still on ${o.liveColor ?? 'the live color'}`,
      };
    case 'SHIFT_STEP':
      return shiftStep(o, cause);
  }
}

function shiftStep(o: ReleaseOutcome, cause: string): { what: string; why: string } {
  const step = o.step;
  if (!step) {
    return { what: 'shift step judged', why: firstSentence(cause) };
  }
  const to = /\d+% to (\w+)/.exec(step.summary)?.[1] ?? 'the new color';
  const judged = step.metrics.filter((m) => m.critical && m.result !== 'pass');
  const found =
    judged.length > 0
      ? judged.map((m) => metricPhrase(m.explanation, o.liveColor)).join('; ')
      : step.alarms.length > 0
        ? step.alarms.map((a) => alarmPhrase(a) ?? a).join('; ')
        : step.metrics.map((m) => metricPhrase(m.explanation, o.liveColor)).join('; ');
  const doing: Record<typeof step.action, string> = {
    next: 'next step',
    promote: 'on to 100%',
    extend: 'baking again',
    rollback: 'rolling back',
  };
  const dry = step.wouldHave
    ? ` (dry run: would ${step.wouldHave === 'rollback' ? 'roll back' : 'bake again'})`
    : '';
  return {
    what: `step ${step.step} (${step.percent}% to ${to}) ${step.result.toUpperCase()}, ${doing[step.action]}${dry}`,
    why: found,
  };
}

/**
 * Why a release rolled back or aborted, from its cause: the error's first sentence, with a failed analysis
 * reduced to the metrics that failed and an alarm to its name and datapoint.
 */
function reason(cause: string, live: string | undefined): string {
  // "RolledBack" causes start with the error that made the release roll back: "AnalysisFailed: Step 1/3 ...".
  const inner = cause.replace(/^[A-Z][A-Za-z]+: /, '');
  const step = /^Step \d+\/\d+ \(\d+% to \w+[^)]*\): (?:FAIL|INCONCLUSIVE): (.*)$/s.exec(inner);
  if (step) {
    const clauses = step[1].split(/; (?=(?:errors|latency): )/);
    const failed = clauses.filter((c) => /^(errors|latency): (fail|inconclusive)/.test(c));
    if (failed.length > 0) {
      return failed.map((c) => metricPhrase(firstSentence(c), live)).join('; ');
    }
  }
  const alarm = alarmPhrase(inner);
  if (alarm) {
    return alarm;
  }
  return firstSentence(
    inner
      .replace(/^During step \d+ of \d+ \([^)]*\), /, '')
      .replace(/^(blue|green)(?: \([^)]*\))? failed during the bake, check \d+: /, '')
      .replace(/^Validation of \S+ on \w+ \(test listener\) failed: /, '')
      .replace(/^Deploy of \S+ to \w+ /, 'deploy ')
      .replace(/ by the deadline \S+(?=:)/, ''),
  ).replace(/: all traffic goes back to \w+$/, '');
}

/**
 * The first alarm a text describes (decisions.describeAlarm: "NAME in ALARM since TIME (DATAPOINT): REASON"), as
 * its name and datapoint, or its name and reason when there is no datapoint.
 */
function alarmPhrase(text: string): string | undefined {
  // The name starts a word (the lookbehind): tried from inside a long word, the name would scan the rest of the
  // word again at every character (a cause of one 200,000-character word took minutes).
  const m = /(?<![^\s:])([^\s:]+) in ALARM since (?:\d{4}-\d\d-\d\dT[\d:.]+Z|[^\s:]+)/.exec(text);
  if (!m) {
    return undefined;
  }
  const rest = text.slice(m.index + m[0].length);
  if (rest.startsWith(' (')) {
    let depth = 0;
    for (let i = 1; i < rest.length; i++) {
      depth += rest[i] === '(' ? 1 : rest[i] === ')' ? -1 : 0;
      if (depth === 0) {
        return `alarm ${m[1]} (${rest.slice(2, i)})`;
      }
    }
  }
  // CloudWatch's reason, without its "Threshold Crossed: " preamble.
  const why = rest.startsWith(': ')
    ? firstSentence(rest.slice(2))
        .split('; ')[0]
        .replace(/^Threshold Crossed: /, '')
    : '';
  return `alarm ${m[1]}${why ? `: ${why}` : ''}`;
}

/**
 * One metric of a comparison as chat reads it: "errors 2.0% against blue's 0.20% (p = 7.3e-13 < 0.005)" when it
 * failed, "latency 1.02x blue's" when it passed.
 */
function metricPhrase(explanation: string, old: string | undefined): string {
  const theirs = old ? `${old}'s` : "the old color's";
  const errors =
    /^errors: (\w+), new \d+ of \d+ failed \(([^)]+)\) against old \d+ of \d+ failed \(([^)]+)\): (p = \S+) \((not )?below (\S+)\)/.exec(
      explanation,
    );
  if (errors) {
    const test = errors[1] === 'pass' ? '' : ` (${errors[4]} ${errors[5] ? '≥' : '<'} ${errors[6]})`;
    return `errors ${errors[2]} against ${theirs} ${errors[3]}${test}`;
  }
  const latency = /^latency: (\w+), new (\S+ ms) against old (\S+ ms): ratio (\S+) \(limit (\S+)\)/.exec(
    explanation,
  );
  if (latency) {
    const detail =
      latency[1] === 'pass' ? '' : ` (${latency[2]} against ${latency[3]}, limit ${latency[5]}x)`;
    return `latency ${latency[4]}x ${theirs}${detail}`;
  }
  const few =
    /^(errors|latency): inconclusive, too few requests(?: for a (p[\d.]+))? \(old (\d+), new (\d+); at least (\d+) each/.exec(
      explanation,
    );
  if (few) {
    return `${few[2] ?? few[1]}: too few requests (old ${few[3]}, new ${few[4]}; at least ${few[5]})`;
  }
  return explanation.replace(/^(errors|latency): (inconclusive|fail|pass), /, '$1 $2: ');
}

/** The image references in a cause as their versions ("green (…/shop:v2) failed" → "green (v2) failed"). */
function shorten(cause: string, image: string | undefined): string {
  const repository = image?.replace(/(@sha256:[a-f0-9]{64}|:[^/:]+)$/, '');
  let text = cause;
  if (repository) {
    text = text.split(`${repository}:`).join('').split(`${repository}@`).join('');
    // "green (v2) has 1 healthy target": the version is in the line already.
    text = text.split(` (${versionOf(image!)})`).join('');
  }
  // Other images (another release's, the previous version's): registry/path:tag → tag.
  return text.replace(/\b[\w-]+(?:\.[\w-]+)+(?::\d+)?\/[\w./-]+?[:@]([\w.:-]*\w)/g, (_, tag: string) => tag);
}

/** Up to the first sentence end (". " before a capital letter, outside parentheses), without the full stop. */
function firstSentence(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if (c === '.' && depth <= 0 && /^\s+[A-Z]/.test(text.slice(i + 1, i + 3))) {
      return text.slice(0, i);
    }
  }
  return text.replace(/\.\s*$/, '');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
