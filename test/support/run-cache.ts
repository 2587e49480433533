/**
 * A cache for one run of the test suite, shared by its test files and workers: results that cost seconds of CPU
 * and are the same for every file that asks (the release state machine compiled for one configuration is
 * synthesized and validated once per run, not once per file). Jest's globalSetup (test/support/global-setup.ts)
 * makes the folder in the system's temp folder and names it in BLUEGREEN_TEST_RUN_CACHE; globalTeardown removes
 * it. A key holds a hash of the sources the results come from, so an entry never outlives the code that made it.
 * Without the folder (a file run outside this Jest config), everything is computed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_CACHE_ENV = 'BLUEGREEN_TEST_RUN_CACHE';

const ROOT = join(__dirname, '..', '..');
/** What a cached result can depend on: the app, the steps, the runner, the test support, their dependencies. */
const SOURCES = ['bin', 'lib', 'lambda', 'rehearsal', 'test/support', 'cdk.json', 'package-lock.json'];

/**
 * `compute()`'s value for `key` (JSON): from this run's cache if a file already computed it, else computed and
 * stored. `compute` must return plain JSON data; what it throws is thrown, and nothing is stored.
 */
export function runCached<T>(kind: string, key: unknown, compute: () => T): T {
  const dir = process.env[RUN_CACHE_ENV];
  if (!dir || !existsSync(dir)) {
    return compute();
  }
  const id = createHash('sha256')
    .update(JSON.stringify([kind, key, sourcesHash()]))
    .digest('hex');
  const file = join(dir, `${kind}-${id}.json`);
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  }
  const value = compute();
  // Written whole, then renamed: a file reading it at the same time sees nothing or all of it.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify(value));
  renameSync(partial, file);
  return value;
}

let sources: string | undefined;

function sourcesHash(): string {
  if (sources === undefined) {
    const hash = createHash('sha256');
    const add = (path: string): void => {
      if (statSync(path).isDirectory()) {
        readdirSync(path)
          .sort()
          .forEach((name) => add(join(path, name)));
      } else {
        hash.update(path).update(readFileSync(path));
      }
    };
    SOURCES.map((p) => join(ROOT, p)).forEach(add);
    sources = hash.digest('hex');
  }
  return sources;
}
