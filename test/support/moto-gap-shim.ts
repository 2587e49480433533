/**
 * A loopback proxy in front of moto for processes the tests cannot hook (the shipped bundles, each in its own Node
 * process): every request goes to moto unchanged, and exactly one named moto gap is mended in the answers.
 *
 * Gap (moto 5.2): `UpdateService` never moves an ECS service's `deployments[]`, and its tasks never run, so
 * `DescribeServices` keeps reporting the first revision as PRIMARY with no running tasks after a deploy. ECS
 * would report the service's own task definition as the PRIMARY deployment, COMPLETED, with the desired count
 * running; the shim answers that, and changes nothing else.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ECS_DEPLOYMENTS_GAP =
  'moto gap: UpdateService never moves deployments[] and tasks never run (DescribeServices mended by the shim)';

interface EcsService {
  taskDefinition?: string;
  desiredCount?: number;
  runningCount?: number;
  deployments?: Record<string, unknown>[];
}

/** The DescribeServices answer as ECS would give it once the service's rollout completed. */
export function completedRollouts(body: string): string {
  const out = JSON.parse(body) as { services?: EcsService[] };
  for (const s of out.services ?? []) {
    const primary = s.deployments?.find((d) => d.status === 'PRIMARY') ?? { status: 'PRIMARY' };
    s.runningCount = s.desiredCount;
    s.deployments = [
      {
        ...primary,
        taskDefinition: s.taskDefinition,
        desiredCount: s.desiredCount,
        runningCount: s.desiredCount,
        pendingCount: 0,
        failedTasks: 0,
        rolloutState: 'COMPLETED',
      },
    ];
  }
  return JSON.stringify(out);
}

export interface GapShim {
  readonly endpoint: string;
  /** How many answers the shim mended (a test can show the gap was met, not assumed). */
  mended(): number;
  stop(): Promise<void>;
}

export async function startGapShim(motoEndpoint: string): Promise<GapShim> {
  const target = new URL(motoEndpoint);
  let mended = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            let body = Buffer.concat(parts);
            const amzTarget = String(req.headers['x-amz-target'] ?? '');
            if (answer.statusCode === 200 && amzTarget.endsWith('.DescribeServices')) {
              body = Buffer.from(completedRollouts(body.toString('utf8')));
              mended += 1;
            }
            const headers = { ...answer.headers, 'content-length': String(body.length) };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(body);
          });
        },
      );
      upstream.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    mended: () => mended,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
