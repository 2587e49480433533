/**
 * Temporary folders for tests, removed when the test file ends: every test cleans up what it creates, so a run of
 * the suite leaves nothing behind in the system's temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];

// Registered when a test file first imports this module (Jest gives each test file its own module registry, and
// hooks cannot be added from inside a test): the folders go when the file's tests are done. Outside Jest (the
// README examples script), when the process exits.
if (typeof afterAll === 'function') {
  afterAll(removeTempDirs);
} else {
  process.once('exit', removeTempDirs);
}

/** A new empty folder in the system's temp folder (`<prefix>XXXXXX`), removed after the current test file. */
export function tempDir(prefix = 'bluegreen-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far (also called by afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
}
