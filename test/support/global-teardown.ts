/** After the run: its cache folder (test/support/run-cache.ts) goes, as every test's temp folder does. */
import { rmSync } from 'node:fs';
import { RUN_CACHE_ENV } from './run-cache';

export default function globalTeardown(): void {
  const dir = process.env[RUN_CACHE_ENV];
  if (dir) {
    rmSync(dir, { recursive: true, force: true });
    delete process.env[RUN_CACHE_ENV];
  }
}
