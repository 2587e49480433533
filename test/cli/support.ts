import type { CliIo } from '../../cli/io';
import { run } from '../../cli/main';

export interface FakeTerminal {
  readonly io: CliIo;
  readonly out: string[];
  readonly err: string[];
  readonly questions: string[];
}

/** A terminal for the CLI under test: a pipe by default (no colors, no prompts), a TTY when asked. */
export function terminal(
  options: {
    tty?: boolean;
    answer?: boolean;
    env?: NodeJS.ProcessEnv;
    /** Runs while the question is asked (the world may change meanwhile); its answer wins over `answer`. */
    onConfirm?: () => Promise<boolean>;
  } = {},
): FakeTerminal {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  let now = Date.parse('2026-11-26T10:05:00Z');
  const io: CliIo = {
    out: (line) => out.push(...line.split('\n')),
    err: (line) => err.push(...line.split('\n')),
    tty: options.tty ?? false,
    color: false,
    status: () => undefined,
    confirm: (question) => {
      questions.push(question);
      return options.onConfirm ? options.onConfirm() : Promise.resolve(options.answer ?? false);
    },

    now: () => new Date(now),
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    env: { BLUEGREEN_APP: 'shop', AWS_REGION: 'eu-west-1', ...options.env },
    cwd: '/nonexistent',
  };
  return { io, out, err, questions };
}

/** Runs `bluegreen <args>` and returns its exit code and output. */
export async function bluegreen(
  args: string,
  t: FakeTerminal = terminal(),
): Promise<{ code: number; out: string; err: string; t: FakeTerminal }> {
  const code = await run(args.split(' ').filter(Boolean), t.io);
  return { code, out: t.out.join('\n'), err: t.err.join('\n'), t };
}
