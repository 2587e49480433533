/**
 * The report page in a real browser (Debian's headless Chromium): two releases, one rolled back, rendered to a
 * file; the DOM Chromium built has every chart of each release, the verdict rows and the statuses; a screenshot is
 * taken, a real PNG of the window's size with something drawn in it. Skips, saying so, only when `chromium` is not
 * installed (.ci/run installs it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReportHtml } from '../../report/html';
import { CHROMIUM_TIMEOUT_MS, chromiumPath, dumpDom, pngSize, screenshot } from '../support/chromium';
import { tempDir } from '../support/temp';
import { document, released, rolledBack } from './html-fixture';

const installed = chromiumPath() !== undefined;
if (!installed) {
  console.warn(
    'chromium is not installed (apt-get install chromium): the report is not checked in a browser; skipping.',
  );
}

(installed ? describe : describe.skip)('the report in headless Chromium', () => {
  const page = join(tempDir('bluegreen-report-'), 'report.html');
  writeFileSync(page, renderReportHtml(document));

  test(
    'the DOM has each release with its five charts, its verdict rows and its status',
    async () => {
      const dom = await dumpDom(page);
      expect(dom).toMatch(/^<!DOCTYPE html>/i);
      for (const r of [released, rolledBack]) {
        const start = dom.indexOf(`data-release="${r.release}"`);
        expect(start).toBeGreaterThan(0);
        const section = dom.slice(start, dom.indexOf('</section>', start));
        for (const chart of ['states', 'weights', 'requests', 'errors', 'latency']) {
          expect(section).toMatch(new RegExp(`<svg [^>]*data-chart="${chart}"`));
        }
        expect(section.match(/<tr class="verdict (pass|fail)">/g)).toHaveLength(r.verdicts.length);
        expect(section.match(/<rect class="state-bar"/g)).toHaveLength(r.states.length);
        expect(section).toContain(
          `<span class="status ${r.status === 'SUCCEEDED' ? 'ok' : 'bad'}">${r.status}</span>`,
        );
      }
      // The rolled back release's failed alarm verdict, and its escaped cause as text (no element made of it).
      expect(dom).toMatch(/<tr class="verdict fail">.*shop-blue-5xx &lt;alarm&gt;/);
      expect(dom).toContain('alarm &lt;b&gt;shop-green-5xx&lt;/b&gt; in ALARM &amp; 1016 5xx in 3s');
    },
    CHROMIUM_TIMEOUT_MS + 10_000,
  );

  test(
    'a screenshot: a PNG of the window size, with the page drawn in it',
    async () => {
      const window = { width: 1200, height: 2000 };
      const png = await screenshot(page, window);
      const size = pngSize(png);
      expect({ width: size.width, height: size.height }).toEqual(window);
      // A blank window of that size is about 11 KB; the report's charts and tables make it several times that.
      expect(size.bytes).toBeGreaterThan(40_000);
    },
    CHROMIUM_TIMEOUT_MS + 10_000,
  );
});
