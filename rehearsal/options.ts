/**
 * `npm start`'s options: parsed and checked before anything starts, so a bad flag or value is one clear line
 * (what was wrong, what is accepted) and exit 2, never a stack trace or a run that silently does nothing.
 */
import { parseArgs } from 'node:util';
import type { RehearsalOptions } from './rehearse';

/** A bad flag or value: main prints the message as one line and exits 2. */
export class RehearsalUsageError extends Error {
  override name = 'RehearsalUsage';
}

export const SCENARIO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
/** The rehearsal's gate times out (and aborts the release) after this long without an answer. */
export const GATE_TIMEOUT_SECONDS = 120;

interface Option {
  readonly type: 'string' | 'boolean';
  readonly value?: string;
  readonly multiple?: boolean;
  readonly short?: string;
  readonly help: string;
}

const OPTIONS = {
  scenario: {
    type: 'string',
    value: 'N',
    multiple: true,
    help: `play only scenario N (${SCENARIO_IDS.join(', ')}); repeat for several (default: all of them)`,
  },
  bake: { type: 'string', value: 'SECONDS', help: 'bake time after the switch, 0 to 300 (default 6)' },
  interval: {
    type: 'string',
    value: 'SECONDS',
    help: 'how often the bake checks the alarms, 1 to 60 (default 1)',
  },
  concurrency: { type: 'string', value: 'N', help: 'load generator clients, 1 to 256 (default 8)' },
  report: {
    type: 'string',
    value: 'PATH',
    help: 'write the report to PATH.json and PATH.html (default rehearsal-report)',
  },
  port: {
    type: 'string',
    value: 'N',
    help: "the local load balancer's production port, 1 to 65535 (default 8080)",
  },
  'test-port': { type: 'string', value: 'N', help: 'its test port, 1 to 65535 (default 9000)' },
  'approve-after': {
    type: 'string',
    value: 'SECONDS',
    help:
      'turn on the manual gate and approve each release that long after it starts waiting, ' +
      `0 to ${GATE_TIMEOUT_SECONDS - 1} (default: no gate)`,
  },
  migrations: {
    type: 'boolean',
    help: 'run database migrations in every release, with a throwaway PostgreSQL (default: off)',
  },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} satisfies Record<string, Option>;

export type MainOptions = Omit<RehearsalOptions, 'onCleanup' | 'log'> & { readonly report: string };

export function helpText(): string {
  const rows = Object.entries(OPTIONS as Record<string, Option>).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    'Usage: npm start -- [options]',
    '',
    'The local rehearsal: real blue/green releases of the sample app on this machine (no AWS, no Docker),',
    'through the same state machine and step code as in AWS, with steady load the whole time.',
    '  scenario 1  release v2: deploy, validate, switch, bake, finish (zero failed requests)',
    '  scenario 2  release v3, which fails real users after the switch: the alarms catch it, v2 is restored',
    '  scenario 3  release v4, which fails validation: traffic never moves',
    '  scenario 4  release v5, which fails every user, as a 10% canary: only the canary share fails, then rollback',
    '  scenario 5  release v6, 100 ms slower but under every alarm, as a 25% canary: the comparison rolls it back',
    '  scenario 6  release v7 in linear 25% steps: each step judged against the old color, then 100%',
    '  scenario 7  release v8, which fails every user, as a 50% canary with sticky users: after the rollback no',
    '              user reaches v8, whatever its stickiness cookie says',
    '  scenario 8  release v9 with auto scaling: the load rises, the live color scales out; the new color starts',
    '              at that count, the switch fails no request, the old color keeps its count until Finish',
    '  scenario 9  release v10, then the old color goes to 0 and the operator rolls back (cold): it is started,',
    '              smoke-checked and switched to under load, with zero failed requests',
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`),
    '',
    'Exit codes: 0 every scenario ended as expected; 1 one did not; 2 a bad option or a port in use.',
  ].join('\n');
}

/** Parses `argv` (without node and script): the rehearsal's options, or `help`. */
export function parseRehearsalArgs(argv: readonly string[]): MainOptions | 'help' {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new RehearsalUsageError(parseError(e as Error & { code?: string }));
  }
  if (values.help) {
    return 'help';
  }
  const text = (name: string) => values[name] as string | undefined;
  const scenarios = (values.scenario as string[] | undefined)?.map((v) =>
    whole('--scenario', v, 1, SCENARIO_IDS.length, `one of ${SCENARIO_IDS.join(', ')}`),
  );
  const report = text('report') ?? 'rehearsal-report';
  if (report.trim() === '') {
    throw new RehearsalUsageError('--report needs a path (got an empty one)');
  }
  const optional = (name: string, min: number, max: number) => {
    const v = text(name);
    return v === undefined ? undefined : whole(`--${name}`, v, min, max);
  };
  return {
    report,
    ...(scenarios ? { scenarios: [...new Set(scenarios)] } : {}),
    bakeSeconds: optional('bake', 0, 300),
    watchIntervalSeconds: optional('interval', 1, 60),
    concurrency: optional('concurrency', 1, 256),
    productionPort: optional('port', 1, 65535) ?? 8080,
    testPort: optional('test-port', 1, 65535) ?? 9000,
    approveAfterSeconds: optional('approve-after', 0, GATE_TIMEOUT_SECONDS - 1),
    migrations: values.migrations === true,
  };
}

function whole(flag: string, value: string, min: number, max: number, accepted?: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RehearsalUsageError(
      `${flag} must be ${accepted ?? `a whole number from ${min} to ${max}`} (got "${value}")`,
    );
  }
  return n;
}

/** node:util's parse errors in one line, in the rehearsal's words. */
function parseError(e: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trimEnd() + ' (npm start -- --help lists the options)';
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted ?? ''}": every option is a --flag (npm start -- --help lists them)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // "Option '--bake <value>' argument missing" or "Option '--migrations' does not take an argument"
      const flag = quoted?.split(' ')[0] ?? 'an option';
      return /does not take/.test(e.message)
        ? `${flag} takes no value (npm start -- --help lists the options)`
        : `${flag} needs a value (npm start -- --help lists the options)`;
    }
    default:
      return e.message.split('\n')[0];
  }
}
