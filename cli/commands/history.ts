/** `bluegreen history [--limit N]`: recent releases, newest first: start, duration, image, outcome, who started it. */
import { recentReleases, type HistoryEntry } from '../execution';
import { duration, EXIT, paint, table, type CliIo, type ExitCode } from '../io';
import type { AwsSession } from '../target';

export async function history(
  session: AwsSession,
  io: CliIo,
  options: { limit: number; json?: boolean },
): Promise<ExitCode> {
  const target = await session.target();
  const entries = await recentReleases(session.sfn, target.stateMachineArn, options.limit);
  if (options.json) {
    io.out(JSON.stringify(entries, null, 2));
    return EXIT.ok;
  }
  if (entries.length === 0) {
    io.out(`No releases of ${target.app} yet.`);
    return EXIT.ok;
  }
  const header = ['started (UTC)', 'took', 'outcome', 'image', 'started by'];
  const rows = entries.map((e) => [
    e.start ? e.start.toISOString().slice(0, 16).replace('T', ' ') : '?',
    e.start ? duration((e.stop ?? io.now()).getTime() - e.start.getTime()) : '?',
    e.outcome,
    e.image ?? '?',
    e.startedBy ?? 'not the bluegreen CLI',
  ]);
  const styled = [
    header.map((h) => paint(io, 'dim', h)),
    ...rows.map((r, i) => [r[0], r[1], outcomeStyle(io, entries[i], r[2]), r[3], r[4]]),
  ];
  for (const line of table(styled, [header, ...rows])) {
    io.out(line);
  }
  return EXIT.ok;
}

function outcomeStyle(io: CliIo, e: HistoryEntry, text: string): string {
  if (e.status === 'SUCCEEDED') {
    return paint(io, 'green', text);
  }
  return paint(io, e.status === 'RUNNING' ? 'cyan' : 'red', text);
}
