import type { Probe, ProbeResult } from '../shared/ports';

/** Real HTTP with the runtime's fetch: status, body (first 64 KiB), latency; never throws. */
export class HttpProbe implements Probe {
  async get(
    url: string,
    headers: Readonly<Record<string, string>> = {},
    timeoutMs = 5000,
  ): Promise<ProbeResult> {
    const started = performance.now();
    try {
      const response = await fetch(url, {
        headers: { 'user-agent': 'bluegreen-probe', ...headers },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      const body = (await response.text()).slice(0, 65_536);
      return { status: response.status, body, latencyMs: performance.now() - started };
    } catch (e) {
      const error = e as Error & { cause?: { code?: string; message?: string } };
      return {
        status: 0,
        body: '',
        latencyMs: performance.now() - started,
        error:
          error.name === 'TimeoutError'
            ? `timed out after ${timeoutMs} ms`
            : (error.cause?.code ?? error.message),
      };
    }
  }
}
