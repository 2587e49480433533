/**
 * The validator's messages for the schema's issues: one line each with the field, what is wrong and what was
 * given; for an unknown field, the allowed ones and the nearest ("did you mean"); for a missing object, its
 * required fields.
 */
import { z } from 'zod';
import { configSchema } from './config-schema';

export function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys
      .map((key) => {
        const hint = closest(key, allowed);
        const where = issue.path.length > 0 ? `${field}.${key}` : key;
        return `${where}: unknown field${hint ? ` (did you mean "${hint}"?)` : ''}; allowed: ${allowed.join(', ')}`;
      })
      .join('\n  - ');
  }
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && issue.message.startsWith('Invalid input: expected object')) {
    const required = requiredKeysAt(issue.path);
    return `${field}: is required: an object with ${required.length > 0 ? required.join(' and ') : 'its fields'} (see "Configuration" in README.md)`;
  }
  if (input === undefined && issue.message.startsWith('is required')) {
    return `${field}: ${issue.message}`;
  }
  const got = input === undefined ? 'nothing' : JSON.stringify(input);
  const message = issue.message.startsWith('Invalid input: expected object')
    ? 'must be an object'
    : issue.message.startsWith('Invalid input: expected array')
      ? 'must be a list'
      : issue.message.startsWith('Invalid input: expected')
        ? issue.message.replace('Invalid input: expected', 'must be a').replace(/, received \w+$/, '')
        : issue.message;
  return `${field}: ${message} (got ${got})`;
}

function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  return Object.keys(objectAt(path)?.shape ?? {});
}

/** The fields an object at `path` must have (no default, not optional). */
function requiredKeysAt(path: readonly PropertyKey[]): string[] {
  return Object.entries((objectAt(path)?.shape ?? {}) as Record<string, z.ZodType>)
    .filter(([, field]) => unwrap(field) === field)
    .map(([name]) => name);
}

/** The schema's object at `path`, if it is one. */
function objectAt(path: readonly PropertyKey[]): z.ZodObject | undefined {
  let node: z.ZodType = configSchema;
  for (const key of path) {
    node = unwrap(node);
    if (!(node instanceof z.ZodObject)) {
      return undefined;
    }
    node = (node.shape as Record<string, z.ZodType>)[String(key)];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? node : undefined;
}

function unwrap(node: z.ZodType): z.ZodType {
  let current: z.ZodType = node;
  while (
    current instanceof z.ZodDefault ||
    current instanceof z.ZodPrefault ||
    current instanceof z.ZodOptional
  ) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The allowed key nearest to a mistyped one (edit distance at most 3), for "did you mean". */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
