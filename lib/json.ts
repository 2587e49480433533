/**
 * JSON text read from a file, with syntax errors a user can act on: where (line and column) and what; and JSON
 * that AWS hands over (Step Functions state data, execution input), read as far as it is JSON.
 */

/** The text is not JSON; the message is "line L, column C: not valid JSON: <what>". */
export class InvalidJsonError extends Error {
  override name = 'InvalidJson';
}

/**
 * JSON.parse, whose errors give a character position (Node 20), or a position and a line (Node 22), or nothing at
 * the end of the text: this gives the line and column, counted from 1, in every case.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.length;
    const before = text.slice(0, offset).split('\n');
    const what = message
      .replace(/\s*\(line \d+ column \d+\)$/, '')
      .replace(/,? ?(in JSON )?at position \d+$/, '')
      .replace(/ in JSON$/, '');
    throw new InvalidJsonError(
      `line ${before.length}, column ${before[before.length - 1].length + 1}: not valid JSON: ${what}`,
    );
  }
}

/**
 * JSON that AWS hands over and that may be absent or not JSON (Step Functions state data, an execution's input):
 * its value, or undefined. The type is the caller's expectation, not checked.
 */
export function jsonOrUndefined<T>(text: string | undefined): T | undefined {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
