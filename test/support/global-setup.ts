/** Before the run: the run's cache folder (test/support/run-cache.ts), named in the workers' environment. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_CACHE_ENV } from './run-cache';

export default function globalSetup(): void {
  process.env[RUN_CACHE_ENV] = mkdtempSync(join(tmpdir(), 'bluegreen-test-run-'));
}
