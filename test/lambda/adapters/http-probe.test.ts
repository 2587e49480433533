import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProbe } from '../../../lambda/adapters/http-probe';

/** A real HTTP server on loopback: the probe is tested against real sockets. */
let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 500);
      return;
    }
    res.statusCode = req.url === '/health' ? 200 : 503;
    res.end(JSON.stringify({ path: req.url, token: req.headers['x-bluegreen-test-token'] ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('HttpProbe', () => {
  const probe = new HttpProbe();

  test('status, body and latency; headers are sent', async () => {
    const result = await probe.get(`${base}/health`, { 'X-Bluegreen-Test-Token': 'abc' });
    expect(result).toMatchObject({ status: 200, body: '{"path":"/health","token":"abc"}' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect((await probe.get(`${base}/other`)).status).toBe(503);
  });

  test('a timeout and a refused connection are answers with status 0, never exceptions', async () => {
    await expect(probe.get(`${base}/slow`, {}, 100)).resolves.toMatchObject({
      status: 0,
      error: 'timed out after 100 ms',
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(probe.get(`http://127.0.0.1:${port}/health`, {}, 1000)).resolves.toMatchObject({
      status: 0,
      error: 'ECONNREFUSED',
    });
  });
});
