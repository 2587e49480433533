/**
 * Debian's headless Chromium for the tests that check a page renders: `--dump-dom` (the DOM after parsing) and
 * `--screenshot` (a PNG of the window). Each run gets its own throwaway profile (`--user-data-dir`), and is awaited
 * until the process exits (its own end is the event counted); the timeout only catches a browser that hangs, and
 * is generous because CI's two cores are busy with other tests.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from './temp';

/** The `chromium` command's path, or undefined when it is not installed (`apt-get install chromium`). */
export function chromiumPath(): string | undefined {
  try {
    const path = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
    return path === '' ? undefined : path;
  } catch {
    return undefined;
  }
}

export interface Window {
  readonly width: number;
  readonly height: number;
}

/** A hang, not a slow machine: a page of ours renders in seconds even on a busy CI runner. */
export const CHROMIUM_TIMEOUT_MS = 180_000;

function run(file: string, flags: readonly string[]): Promise<string> {
  const chromium = chromiumPath();
  if (!chromium) {
    return Promise.reject(new Error('chromium is not installed (apt-get install chromium)'));
  }
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-extensions',
    '--hide-scrollbars',
    `--user-data-dir=${tempDir('bluegreen-chromium-')}`,
    ...flags,
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      chromium,
      args,
      { encoding: 'utf8', timeout: CHROMIUM_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`chromium ${flags.join(' ')} failed: ${error.message}\n${stderr.slice(-2000)}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** The DOM of the page at `file` after Chromium parsed it (and ran its scripts, if it had any). */
export function dumpDom(file: string): Promise<string> {
  return run(file, ['--dump-dom']);
}

/** A PNG screenshot of the page at `file` in a window of the given size; returns the PNG's path. */
export async function screenshot(file: string, window: Window): Promise<string> {
  const png = join(tempDir('bluegreen-screenshot-'), 'page.png');
  await run(file, [
    `--screenshot=${png}`,
    `--window-size=${window.width},${window.height}`,
    '--force-device-scale-factor=1',
  ]);
  return png;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG's size from its IHDR chunk (the first chunk, right after the signature); throws when not a PNG. */
export function pngSize(file: string): Window & { readonly bytes: number } {
  const data = readFileSync(file);
  if (
    data.length < 24 ||
    !data.subarray(0, 8).equals(PNG_SIGNATURE) ||
    data.toString('ascii', 12, 16) !== 'IHDR'
  ) {
    throw new Error(`${file} is not a PNG (${data.length} bytes)`);
  }
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}
