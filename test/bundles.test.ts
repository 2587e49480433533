/**
 * The Lambda bundles as they ship: built by `cdk synth` with the local esbuild, loaded in a fresh Node process
 * the way the Lambda runtime loads them (the AWS SDK resolved from outside the bundle), then run against a local
 * HTTP stand-in for the AWS APIs. Proves the bundle, the lazy SDK loading and the exact wire calls of a step.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { resourcesOfType, synth } from './support/synth';

interface Seen {
  readonly target: string;
  readonly body: string;
}

let server: Server;
let endpoint = '';
const seen: Seen[] = [];

const REVISION = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:7';

/**
 * Answers ELB (query protocol, XML), SSM and ECS (JSON protocol) calls with minimal valid responses: the green
 * service runs 2 tasks of REVISION and its 2 targets are healthy.
 */
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const jsonTarget = req.headers['x-amz-target'];
      if (typeof jsonTarget === 'string') {
        seen.push({ target: jsonTarget, body });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(
          JSON.stringify(
            jsonTarget.endsWith('.DescribeServices')
              ? {
                  services: [
                    {
                      serviceName: 'shop-green',
                      taskDefinition: REVISION,
                      desiredCount: 2,
                      runningCount: 2,
                      deployments: [
                        {
                          status: 'PRIMARY',
                          taskDefinition: REVISION,
                          runningCount: 2,
                          rolloutState: 'COMPLETED',
                          failedTasks: 0,
                        },
                      ],
                    },
                  ],
                  failures: [],
                }
              : { Version: 2, Tier: 'Standard' },
          ),
        );
        return;
      }
      const action = new URLSearchParams(body).get('Action') ?? '?';
      seen.push({ target: action, body });
      const healthy = (ip: string) =>
        `<member><Target><Id>${ip}</Id><Port>8080</Port></Target><TargetHealth><State>healthy</State></TargetHealth></member>`;
      const result =
        action === 'DescribeTargetHealth'
          ? `<${action}Result><TargetHealthDescriptions>${healthy('10.0.1.7')}${healthy('10.0.2.9')}</TargetHealthDescriptions></${action}Result>`
          : `<${action}Result/>`;
      res.setHeader('content-type', 'text/xml');
      res.end(
        `<${action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">${result}` +
          `<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${action}Response>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const { app, serviceJson } = synth({}, undefined, { 'aws:cdk:bundling-stacks': ['**'] });

test('the live-color widget is bundled by the local esbuild (no Docker) into a small handler', () => {
  const fn = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function')).find(([id]) =>
    id.startsWith('LiveColorWidget'),
  )!;
  const key = (fn[1].Code as { S3Key: string }).S3Key.replace('.zip', '');
  const bundle = readFileSync(join(app.outdir, `asset.${key}`, 'index.js'), 'utf8');
  expect(bundle).toContain('RecordInvalid');
  expect(bundle).not.toContain('@aws-sdk/client-ssm/dist'); // the SDK comes from the runtime
  expect(bundle.length).toBeLessThan(50_000);
});

test('the bundled Switch step re-checks the idle color, then calls ModifyListener, ModifyRule, then writes the record, through the real SDK', async () => {
  const [, fn] = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function')).find(([id]) =>
    id.startsWith('ReleaseWorkflowStepsSwitchFunction'),
  )!;
  const key = (fn.Code as { S3Key: string }).S3Key.replace('.zip', '');
  const bundle = join(app.outdir, `asset.${key}`, 'index.js');
  const settings = {
    workflow: { appName: 'shop' },
    aws: {
      productionListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/1/2',
      testRuleArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/1/3/4',
      targetGroups: { blue: 'arn:tg/shop-blue', green: 'arn:tg/shop-green' },
      fleet: {
        platform: 'ecs',
        cluster: 'shop',
        services: { blue: 'shop-blue', green: 'shop-green' },
        families: { blue: 'shop-blue', green: 'shop-green' },
        containerName: 'app',
      },
    },
  };
  const state = {
    execution: 'release-1',
    release: {
      live: 'blue',
      idle: 'green',
      image: 'repo:v2',
      revision: REVISION,
      liveCount: 2,
      timings: { bakeSeconds: 60 },
    },
  };
  const script = `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(state)}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.name, e.message); process.exit(1); });`;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(__dirname, '..', 'node_modules'),
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: endpoint,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        BLUEGREEN_SETTINGS: JSON.stringify(settings),
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });

  // The idle color's service and targets first (in parallel), then the listener, the rule, the record.
  expect(
    seen
      .slice(0, 2)
      .map((s) => s.target)
      .sort(),
  ).toEqual(['AmazonEC2ContainerServiceV20141113.DescribeServices', 'DescribeTargetHealth']);
  expect(seen.slice(2).map((s) => s.target)).toEqual([
    'ModifyListener',
    'ModifyRule',
    'AmazonSSM.PutParameter',
    'AmazonSSM.PutParameter',
  ]);
  seen.splice(0, 2);
  const listener = new URLSearchParams(seen[0].body);
  expect(listener.get('ListenerArn')).toBe(settings.aws.productionListenerArn);
  expect(listener.get('DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn')).toBe(
    'arn:tg/shop-green',
  );
  expect(listener.get('DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight')).toBe('100');
  expect(listener.get('DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight')).toBe('0');
  expect(JSON.parse(seen[2].body)).toEqual({
    Name: '/bluegreen/shop/green/image',
    Value: 'repo:v2',
    Type: 'String',
    Overwrite: true,
  });
  expect(JSON.parse(seen[3].body)).toEqual({
    Name: '/bluegreen/shop/live-color',
    Value: 'green',
    Type: 'String',
    Overwrite: true,
  });
  const result = JSON.parse(output.trim().split('\n').pop()!) as {
    release: { switchedAt: string; watch: { checks: number } };
  };
  expect(result.release.switchedAt).toMatch(/^\d{4}-/);
  expect(result.release.watch.checks).toBe(0);
}, 60_000);
