/**
 * The CLI tests' AWS (mock-aws.ts) after a release whose old color went cold, with what a cold rollback adds: the
 * stack's cold rollback outputs, the workflow's Validate Lambda (Lambda Invoke runs the real validate core with the
 * HTTP probe and the test token, as the function does in the VPC), the Auto Scaling activities, and a real HTTP
 * test listener on this machine that answers as the color the test rule points at would (its image's tag as the
 * version; 503 while that color runs nothing), to the Validate Lambda only: like the real test listener, which
 * admits the NAT gateways' addresses, it drops any other caller (the operator's machine).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeColdRollbackSettings } from '../../lib/cold-rollback-settings';
import { HttpProbe } from '../../lambda/adapters/http-probe';
import { BluegreenError } from '../../lambda/shared/errors';
import type { ReleaseState, SmokeCheck } from '../../lambda/shared/release';
import { validate } from '../../lambda/workflow/validate';
import type { Color } from '../../lambda/shared/release-record';
import { ME, MockAws, REPO } from './mock-aws';

export const V1 = `${REPO}:v1`;
export const V2 = `${REPO}:v2`;
export const TOKEN = 'test-token-value';
const HEADER = 'X-Bluegreen-Test-Token';
export const VALIDATE_FUNCTION = 'arn:aws:lambda:eu-west-1:123456789012:function:shop-validate';
const SMOKE_CHECKS: readonly SmokeCheck[] = [
  { path: '/health', expectStatus: 200, expectVersion: false, latencyBudgetMs: 1000 },
  { path: '/version', expectStatus: 200, expectVersion: true, latencyBudgetMs: 1000 },
];

export class ColdAws extends MockAws {
  readonly lambda = mockClient(LambdaClient);
  private server?: Server;
  /** Requests running inside the Validate Lambda (the only caller the test listener admits). */
  private inVpc = 0;
  /** Requests the test listener dropped: they came from outside the VPC. */
  readonly dropped: string[] = [];
  /** Requests the test listener answered: path and status. */
  readonly probed: { path: string; status: number }[] = [];
  /** Images whose tasks answer 500 (a broken version). */
  readonly broken = new Set<string>();
  /** The version each image reports (v1 was released with --version 1.0.0); others report their tag. */
  readonly versions = new Map([[V1, '1.0.0']]);

  /**
   * v1 ran on blue; v2's release (ended at 09:00, an hour before the terminal's clock) made green live and scaled
   * blue to 0 on its revision (7).
   */
  constructor(platform: 'ecs' | 'asg' = 'ecs') {
    super(platform);
    this.record = { live: 'green', images: { blue: V1, green: V2 } };
    this.weights = { blue: 0, green: 100 };
    this.testWeights = { blue: 100, green: 0 };
    this.services.green = {
      desired: 2,
      running: 2,
      revision:
        platform === 'asg' ? 'lt-green:4' : 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-green:4',
    };
    this.services.blue = { ...this.services.blue, desired: 0, running: 0 };
    this.executions.push(
      {
        name: 'v1-20261120T080000Z',
        status: 'SUCCEEDED',
        input: JSON.stringify({ image: V1, version: '1.0.0', startedBy: ME }),
        start: new Date('2026-11-20T08:00:00Z'),
        stop: new Date('2026-11-20T08:20:00Z'),
        events: [],
      },
      {
        name: 'v2-20261126T084000Z',
        status: 'SUCCEEDED',
        input: JSON.stringify({ image: V2, startedBy: ME }),
        start: new Date('2026-11-26T08:40:00Z'),
        stop: new Date('2026-11-26T09:00:00Z'),
        events: [],
      },
    );
    this.lambda.on(InvokeCommand).callsFake(async (input: { FunctionName: string; Payload: Uint8Array }) => {
      if (input.FunctionName !== VALIDATE_FUNCTION) {
        throw Object.assign(new Error(`Function not found: ${input.FunctionName}`), {
          name: 'ResourceNotFoundException',
        });
      }
      const state = JSON.parse(new TextDecoder().decode(input.Payload)) as ReleaseState;
      const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
      this.inVpc += 1;
      try {
        const out = await validate(
          state,
          {
            probe: new HttpProbe(),
            testToken: () => Promise.resolve(TOKEN),
            router: this.router(),
            now: () => new Date(),
          },
          { testUrl: this.testUrl, testHeader: HEADER, smokeChecks: SMOKE_CHECKS, hasValidationHook: false },
        );
        return { StatusCode: 200, Payload: encode(out) };
      } catch (e) {
        const error = e as Error;
        return {
          StatusCode: 200,
          FunctionError: 'Unhandled',
          Payload: encode({
            errorType: error instanceof BluegreenError ? error.name : 'Error',
            errorMessage: error.message,
          }),
        };
      } finally {
        this.inVpc -= 1;
      }
    });
    this.autoscaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    // Blue's revision 7 runs v1, as the record says.
    const blueSeven = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-blue:7';
    this.ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: blueSeven }).callsFake(() => ({
      taskDefinition: {
        taskDefinitionArn: blueSeven,
        family: 'shop-blue',
        status: this.deregistered.includes(blueSeven) ? 'INACTIVE' : 'ACTIVE',
        containerDefinitions: [{ name: 'app', image: V1 }],
      },
    }));
    this.ec2
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-blue', Versions: ['7'] })
      .resolves({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: 'lt-blue',
            VersionNumber: 7,
            CreateTime: new Date('2026-11-20T08:00:00Z'),
            LaunchTemplateData: { UserData: Buffer.from(`BLUEGREEN_IMAGE='${V1}'\n`).toString('base64') },
          },
        ],
      });
  }

  /** Starts the test listener and puts the stack's outputs in place. */
  async start(settings: { windowHours?: number; timeoutSeconds?: number } = {}): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      if (this.inVpc === 0) {
        this.dropped.push(path);
        req.socket.destroy();
        return;
      }
      const color: Color = this.testWeights.blue > 0 ? 'blue' : 'green';
      const image = this.record.images[color];
      let status = 200;
      let body = '';
      if (req.headers[HEADER.toLowerCase()] !== TOKEN) {
        status = 403;
      } else if (this.services[color].running === 0) {
        status = 503;
      } else if (this.broken.has(image)) {
        status = 500;
      } else {
        const version = this.versions.get(image) ?? image.slice(image.lastIndexOf(':') + 1);
        body = JSON.stringify({ status: 'ok', version, color });
      }
      this.probed.push({ path, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.testUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.extraOutputs = {
      TestUrl: this.testUrl,
      TestTrafficSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop-test-AbCdEf',
      ColdRollbackSettings: encodeColdRollbackSettings({
        windowHours: settings.windowHours ?? 24,
        timeoutSeconds: settings.timeoutSeconds ?? 300,
        pollSeconds: 15,
        smokeChecks: SMOKE_CHECKS,
        testHeader: HEADER,
        validateFunctionArn: VALIDATE_FUNCTION,
      }),
    };
    return this;
  }

  private testUrl = '';

  /** Target health as the Validate Lambda reads it (the load balancer's, from the mocked ELB). */
  private router() {
    return {
      targetHealth: async (color: Color) => {
        const running = this.services[color].running;
        const healthy = Math.min(this.healthy[color] ?? running, running);
        return Promise.resolve({ healthy, notHealthy: running - healthy, problems: [] as string[] });
      },
    } as unknown as Parameters<typeof validate>[1]['router'];
  }

  override restore(): void {
    super.restore();
    this.lambda.restore();
    this.server?.close();
  }
}
