/**
 * The CLI's view of the world outside AWS: where output goes, whether a person is watching (a terminal: colors,
 * a spinner, confirmation prompts) or a program (plain, stable lines; `--json`), and the clock. Commands never
 * touch process.stdout or process.exit directly, so the tests run them exactly as a user would.
 */
import { createInterface } from 'node:readline/promises';
import { styleText } from 'node:util';

/** Exit codes: 0 done; 1 the release failed, rolled back or was refused; 2 usage or AWS access errors. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line (no stack trace) and exits with. */
export class CliError extends Error {
  constructor(
    name: string,
    message: string,
    readonly exitCode: ExitCode,
    /** Machine-readable details for --json output. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = name;
  }
}

/** A refusal or a failed release: exit 1. */
export const refused = (name: string, message: string, details?: Record<string, unknown>) =>
  new CliError(name, message, EXIT.failed, details);

/** Bad usage or no way to reach AWS: exit 2. */
export const usage = (name: string, message: string) => new CliError(name, message, EXIT.usage);

export interface CliIo {
  /** Writes a line to stdout. */
  out(line: string): void;
  /** Writes a line to stderr. */
  err(line: string): void;
  /** stdout is a terminal (colors, spinner, prompts make sense). */
  readonly tty: boolean;
  /** Colors allowed (a terminal, and NO_COLOR unset). */
  readonly color: boolean;
  /** Rewrites the current terminal line (the spinner); only called when `tty`. */
  status(line: string): void;
  /** Asks a yes/no question on the terminal; only called when `tty`. */
  confirm(question: string): Promise<boolean>;
  now(): Date;
  sleep(ms: number): Promise<void>;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The real terminal. */
export function processIo(): CliIo {
  const tty = process.stdout.isTTY === true;
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) {
      process.stdout.write('\r\x1b[2K');
      statusShown = false;
    }
  };
  return {
    out: (line) => {
      clearStatus();
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      clearStatus();
      process.stderr.write(`${line}\n`);
    },
    tty,
    color: tty && !process.env.NO_COLOR,
    status: (line) => {
      process.stdout.write(`\r\x1b[2K${line}`);
      statusShown = true;
    },
    confirm: async (question) => {
      clearStatus();
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * Asks before a command changes production: passes with `--yes`; on a terminal asks (Ctrl-C or Ctrl-D is a no);
 * elsewhere (a pipe, --json) refuses without `--yes`. A no changes nothing.
 */
export async function confirm(
  io: CliIo,
  options: { readonly yes?: boolean; readonly json?: boolean },
  question: string,
): Promise<void> {
  if (options.yes) {
    return;
  }
  if (!io.tty || options.json) {
    throw usage(
      'ConfirmationNeeded',
      `${question} This changes production: confirm with --yes when not on a terminal.`,
    );
  }
  let yes: boolean;
  try {
    yes = await io.confirm(question);
  } catch (e) {
    // Ctrl-C (or Ctrl-D) at the prompt is a no.
    const { name, code } = e as Error & { code?: string };
    if (name !== 'AbortError' && code !== 'ERR_USE_AFTER_CLOSE') {
      throw e;
    }
    yes = false;
  }
  if (!yes) {
    throw refused('NotConfirmed', 'Not confirmed; nothing was changed.');
  }
}

type Style = 'red' | 'green' | 'yellow' | 'blue' | 'bold' | 'dim' | 'cyan';

/** `text` in a style when the output is a color terminal; as is otherwise. */
export function paint(io: Pick<CliIo, 'color'>, style: Style, text: string): string {
  return io.color ? styleText(style, text) : text;
}

/** A color name in its own color (green in green, blue in blue). */
export function colorName(io: Pick<CliIo, 'color'>, color: string): string {
  return color === 'blue' || color === 'green' ? paint(io, color, color) : color;
}

/** Seconds with one decimal below a minute, then minutes and seconds: "4.2s", "3m05s". */
export function duration(ms: number): string {
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)}s`;
  }
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Left-aligned columns, two spaces apart (widths from the plain text, so colors do not skew them). */
export function table(
  rows: readonly (readonly string[])[],
  plain: readonly (readonly string[])[] = rows,
): string[] {
  const widths = plain[0].map((_, i) => Math.max(...plain.map((r) => r[i].length)));
  return rows.map((row, r) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - plain[r][i].length)))
      .join('  ')
      .trimEnd(),
  );
}
