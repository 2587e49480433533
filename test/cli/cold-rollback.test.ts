/**
 * `bluegreen rollback` after the previous version's color went cold, through the CLI with aws-sdk-client-mock
 * (mock-cold.ts) and a real HTTP test listener: progress lines, the confirmation, the refusals' texts, and where
 * traffic, the record, the colors and the lock end up, on ECS and on Auto Scaling groups.
 */
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import {
  ClientException,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { ColdAws, V1, V2, VALIDATE_FUNCTION } from './mock-cold';
import { history } from './mock-aws';
import { bluegreen, terminal } from './support';

const BLUE_SEVEN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-blue:7';

let aws: ColdAws;
afterEach(() => aws.restore());

describe.each(['ecs', 'asg'] as const)('bluegreen rollback, %s: the old color went cold', (platform) => {
  const unit = platform === 'asg' ? 'instance' : 'task';
  const blueRevision = platform === 'asg' ? 'lt-blue:7' : 'shop-blue:7';
  beforeEach(async () => {
    aws = await new ColdAws(platform).start();
    history.reset();
  });

  test('starts blue on its revision, waits, smoke-checks it, then moves all traffic; green stays warm', async () => {
    const t = terminal({ tty: true, answer: true });
    const { code, out, err } = await bluegreen('rollback --reason v2-corrupts-carts', t);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(t.questions).toEqual([
      `blue went cold (0 ${unit}s). Start 2 ${unit}s of ${V1} (${blueRevision}) on blue, wait up to 300 s for ` +
        'them to be healthy, smoke-check them through the test listener and move all production traffic from ' +
        `green (${V2}) to blue?`,
    ]);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^10:05:00 took the release lock as cold-rollback-20261126T100500000Z/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^10:05:00 starting 2 ${unit}\\(s\\) of .*:v1 on blue \\(${blueRevision}\\), healthy by 2026-11-26T10:10:00.000Z at the latest$`,
      ),
    );
    expect(lines[2]).toBe(`10:05:00 blue: 2/2 ${unit}s running, 2 healthy`);
    expect(lines[4]).toMatch(
      /^10:05:00 smoke checks passed \(GET \/health: status 200, \d+ ms; GET \/version: status 200, \d+ ms, version in the body; target health: 2 healthy, 0 not\)$/,
    );
    expect(lines[5]).toBe(
      `10:05:00 all production traffic on blue (${V1}), read back from the record and the listener`,
    );
    expect(lines[6]).toMatch(
      new RegExp(
        `^Rolled back \\(cold\\): blue \\(.*:v1\\) serves all production traffic; restored in \\d+\\.\\d s \\(scale-up \\d+\\.\\d s, smoke \\d+\\.\\d s, switch \\d+ ms\\)\\.$`,
      ),
    );
    expect(lines[7]).toContain(
      'Cold rollback by arn:aws:sts::123456789012:assumed-role/operator/alice: v2-corrupts-carts.',
    );
    expect(lines[7]).toContain('(version 1.0.0)');
    // The version came from v1's release input (1.0.0, not its tag), and the test listener answered it: to the
    // stack's Validate Lambda (in the VPC), invoked once with blue's release; nothing came from this machine.
    expect(aws.probed).toEqual([
      { path: '/health', status: 200 },
      { path: '/version', status: 200 },
    ]);
    expect(aws.dropped).toEqual([]);
    const invokes = aws.lambda.commandCalls(InvokeCommand);
    expect(invokes).toHaveLength(1);
    expect(invokes[0].args[0].input.FunctionName).toBe(VALIDATE_FUNCTION);
    const sent = JSON.parse(
      new TextDecoder().decode(invokes[0].args[0].input.Payload as Uint8Array),
    ) as unknown;
    expect(sent).toMatchObject({
      execution: 'cold-rollback-20261126T100500000Z',
      release: { image: V1, version: '1.0.0', idle: 'blue', live: 'green', liveCount: 2 },
    });
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.testWeights).toEqual({ blue: 0, green: 100 });
    expect(aws.record.live).toBe('blue');
    expect(aws.services.blue).toMatchObject({ desired: 2, running: 2 });
    expect(aws.services.blue.revision).toContain(blueRevision.replace('shop-', ''));
    expect(aws.services.green).toMatchObject({ desired: 2, running: 2 });
    expect(aws.lock).toBeUndefined();
    expect(aws.published).toHaveLength(1);
    expect(aws.published[0].message).toMatchObject({ status: 'ROLLED_BACK', liveColor: 'blue' });
  });

  test('--json --yes: one result object', async () => {
    const { code, out } = await bluegreen('--json rollback --yes');
    expect(code).toBe(0);
    expect(out.split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toMatchObject({
      rolledBack: true,
      cold: true,
      liveColor: 'blue',
      image: V1,
      count: 2,
      version: '1.0.0',
      checks: [
        { name: 'GET /health', passed: true },
        { name: 'GET /version', passed: true },
        { name: 'target health', passed: true },
      ],
      seconds: { restore: expect.any(Number), scaleUp: expect.any(Number), smoke: expect.any(Number) },
    });
  });

  test('the revision no longer exists: refused, naming it, nothing changed', async () => {
    if (platform === 'asg') {
      aws.ec2
        .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-blue', Versions: ['7'] })
        .rejects(
          Object.assign(new Error("Could not find launch template version '7'"), {
            name: 'InvalidLaunchTemplateId.VersionNotFound',
          }),
        );
    } else {
      aws.ecs
        .on(DescribeTaskDefinitionCommand, { taskDefinition: BLUE_SEVEN })
        .rejects(new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }));
    }
    const { code, err, t } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    const why =
      platform === 'asg'
        ? 'launch template version lt-blue:7 no longer exists (InvalidLaunchTemplateId.VersionNotFound)'
        : 'task definition shop-blue:7 no longer exists (Unable to describe task definition.)';
    expect(err).toBe(
      `RevisionGone: blue's revision ${blueRevision} (${V1}) can no longer run: ${why}. Nothing was changed. ` +
        `Release the image again instead: bluegreen release --image ${V1}.`,
    );
    expect(t.questions).toEqual([]);
    expect(aws.services.blue.desired).toBe(0);
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
    expect(aws.lock).toBeUndefined();
  });
});

describe('bluegreen rollback, ecs: refusals and failures of a cold rollback', () => {
  beforeEach(async () => {
    aws = await new ColdAws('ecs').start();
    history.reset();
  });

  test('its revision was deregistered but blue still references it: blue scales on it (desired count only)', async () => {
    aws.deregistered.push(BLUE_SEVEN);
    const { code, err } = await bluegreen('rollback --yes');
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(aws.services.blue).toMatchObject({ desired: 2, revision: BLUE_SEVEN });
    const updates = aws.ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);
    expect(updates.filter((u) => u.service === 'shop-blue' && u.desiredCount === 2)).toEqual([
      { cluster: expect.any(String), service: 'shop-blue', desiredCount: 2 },
    ]);
    expect(aws.ecs.commandCalls(RegisterTaskDefinitionCommand)).toEqual([]);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
  });

  test('--within: the last release ended outside the window: refused, saying when, and what to do instead', async () => {
    const { code, err } = await bluegreen('rollback --yes --within 1');
    expect(code).toBe(1);
    expect(err).toBe(
      'OutsideWindow: green became live at 2026-11-26T09:00:00.000Z (1.1 h ago), outside the ' +
        'cold rollback window of 1 h (release.coldRollbackWindowHours, or --within). Nothing was changed. Release ' +
        `the old image instead: bluegreen release --image ${V1}.`,
    );
    expect(aws.services.blue.desired).toBe(0);
  });

  test('the smoke checks fail: blue back to 0, traffic untouched, the lock free, exit 1 with the values', async () => {
    aws.broken.add(V1);
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toMatch(
      /^SmokeChecksFailed: Cold rollback to blue \(.*:v1\) did not switch: Validation of .*:v1 on blue \(test listener\) failed: GET \/health: status 500, expected 200; GET \/version: status 500, expected 200\. blue was put back to 0\. Production traffic was not touched: green keeps serving .*:v2\.$/,
    );
    expect(aws.services.blue.desired).toBe(0);
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
    expect(aws.record.live).toBe('green');
    expect(aws.lock).toBeUndefined();
    expect(aws.published).toEqual([]);
  });

  test('never healthy by the --timeout deadline: NotHealthy, blue back to 0, traffic untouched', async () => {
    aws.healthy.blue = 0;
    const { code, err } = await bluegreen('rollback --yes --timeout 60');
    expect(code).toBe(1);
    expect(err).toMatch(
      /^NotHealthy: Cold rollback to blue .* not ready by the deadline 2026-11-26T10:06:00.000Z: .*healthy targets 0\/2/,
    );
    expect(aws.services.blue.desired).toBe(0);
    expect(aws.weights).toEqual({ blue: 0, green: 100 });
    expect(aws.lock).toBeUndefined();
  });

  test("the live version's contract ran: refused as today (ContractRan)", async () => {
    aws.migrationRecord = JSON.stringify({
      contracted: { image: V2, release: 'v2-20261126T084000Z', at: '2026-11-26T08:55:00Z' },
    });
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toMatch(/^ContractRan: The contract migrations of .*:v2 ran at 2026-11-26T08:55:00Z/);
    expect(aws.services.blue.desired).toBe(0);
  });

  test('not on a terminal without --yes: the question, and nothing changed', async () => {
    const { code, err } = await bluegreen('rollback');
    expect(code).toBe(2);
    expect(err).toMatch(/^ConfirmationNeeded: blue went cold \(0 tasks\)\. Start 2 tasks of /);
    expect(aws.services.blue.desired).toBe(0);
  });
});
