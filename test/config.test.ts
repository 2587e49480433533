import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnvironment, ConfigError, loadConfig, parseConfig, parseEcrRepository } from '../lib/config';
import { BASE_CONFIG, merge } from './support/synth';
import { tempDir } from './support/temp';

/** The problems reported for BASE_CONFIG with `overrides` applied (fails the test if none are). */
function problemsOf(overrides: unknown): readonly string[] {
  try {
    parseConfig(merge(BASE_CONFIG, overrides));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  test('a minimal configuration gets documented defaults', () => {
    const config = parseConfig(BASE_CONFIG);
    expect(config).toMatchObject({
      platform: 'ecs',
      vpc: {},
      container: { port: 8080, cpu: 256, memoryMiB: 512, desiredCount: 2, architecture: 'arm64' },
      healthCheck: { path: '/health', intervalSeconds: 10, timeoutSeconds: 5 },
      listeners: { testPort: 9000, testAllowedCidrs: [] },
      deregistrationDelaySeconds: 10,
      keepIdleWarm: false,
      alarms: {
        http5xxCount: 5,
        p99LatencyMs: 1000,
        unhealthyHosts: 1,
        periodSeconds: 60,
        evaluationPeriods: 2,
      },
      redis: { enabled: false, nodeType: 'cache.t4g.micro', replicas: 1 },
      logRetentionDays: 30,
    });
    expect(config.listeners.certificateArn).toBeUndefined();
  });

  test('the shipped bluegreen.config.json is valid', () => {
    expect(loadConfig(join(__dirname, '..', 'bluegreen.config.json')).appName).toBe('shop');
  });

  test.each([
    ['a missing required field', { appName: undefined }, /^appName: is required/],
    ['a wrong type', { keepIdleWarm: 'yes' }, /^keepIdleWarm: must be true or false \(got "yes"\)$/],
    [
      'a number where a whole number is needed',
      { container: { desiredCount: 1.5 } },
      /^container\.desiredCount: must be a whole number from 1 to 100 tasks \(got 1\.5\)$/,
    ],
    [
      'a value out of range',
      { deregistrationDelaySeconds: 4000 },
      /^deregistrationDelaySeconds: must be a whole number from 0 to 3600 seconds \(got 4000\)$/,
    ],
    [
      'a value not in the allowed set',
      { platform: 'k8s' },
      /^platform: must be "ecs" .* or "asg" .*\(got "k8s"\)$/,
    ],
    [
      'a Fargate CPU size that does not exist',
      { container: { cpu: 300 } },
      /^container\.cpu: must be one of the Fargate CPU sizes 256, 512, 1024, 2048, 4096, 8192, 16384 \(got 300\)$/,
    ],
    [
      'a malformed name',
      { appName: 'My App' },
      /^appName: must be 3-20 lowercase letters.*\(got "My App"\)$/,
    ],
    [
      'an image repository with a tag in it',
      { image: { repository: 'nginx:latest' } },
      /^image\.repository: must be an image repository without tag/,
    ],
    ['a malformed tag', { image: { initialTag: 'v1 final' } }, /^image\.initialTag: must be an image tag/],
    [
      'a malformed certificate ARN',
      { listeners: { certificateArn: 'my-cert' } },
      /^listeners\.certificateArn: must be an ACM certificate ARN/,
    ],
    [
      'a malformed CIDR',
      { listeners: { testAllowedCidrs: ['10.0.0.0/33'] } },
      /^listeners\.testAllowedCidrs\.0: must be an IPv4 CIDR block/,
    ],
    ['a malformed VPC id', { vpc: { vpcId: 'vpc-1' } }, /^vpc\.vpcId: must be a VPC id/],
    [
      'an unsupported alarm period',
      { alarms: { periodSeconds: 45 } },
      /^alarms\.periodSeconds: must be a multiple of 60 from 60 to 3600 seconds \(ALB metrics come once a minute\) \(got 45\)$/,
    ],
    [
      'a log retention CloudWatch does not offer',
      { logRetentionDays: 31 },
      /^logRetentionDays: must be one of the CloudWatch Logs retention periods 1, 3, 5, .*\(got 31\)$/,
    ],
    [
      'an object where a list is needed',
      { listeners: { testAllowedCidrs: '1.2.3.4/32' } },
      /^listeners\.testAllowedCidrs: must be a list/,
    ],
    [
      'a health check path without leading slash',
      { healthCheck: { path: 'health' } },
      /^healthCheck\.path: must be a URL path starting with "\/"/,
    ],
  ])('field check: %s', (_what, overrides, expected) => {
    expect(problemsOf(overrides)).toEqual([expect.stringMatching(expected)]);
  });

  test('the test listener is never opened to the world', () => {
    expect(
      problemsOf({ listeners: { testAllowedCidrs: ['0.0.0.0/0', '10.0.0.0/8', '203.0.113.0/24'] } }),
    ).toEqual([
      expect.stringMatching(
        /^listeners\.testAllowedCidrs\.0: must be a \/16 or narrower.*\(got "0\.0\.0\.0\/0"\)$/,
      ),
      expect.stringMatching(/^listeners\.testAllowedCidrs\.1: must be a \/16 or narrower/),
    ]);
  });

  test("account and region fall back to the CLI's (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION)", () => {
    const raw = merge(BASE_CONFIG, { aws: { region: undefined } });
    expect(parseConfig(raw, 'f', { account: '111122223333', region: 'ap-southeast-2' }).aws).toEqual({
      account: '111122223333',
      region: 'ap-southeast-2',
    });
    expect(parseConfig(BASE_CONFIG, 'f', { region: 'ap-southeast-2' }).aws.region).toBe('eu-west-1');
    expect(cliEnvironment({ CDK_DEFAULT_REGION: 'us-west-2', CDK_DEFAULT_ACCOUNT: '' })).toEqual({
      account: undefined,
      region: 'us-west-2',
    });
  });

  test('an unknown field is named, with the allowed ones and a suggestion for a typo', () => {
    expect(problemsOf({ container: { desiredCont: 3 } })).toEqual([
      'container.desiredCont: unknown field (did you mean "desiredCount"?); allowed: port, cpu, memoryMiB, desiredCount, architecture, environment',
    ]);
    expect(problemsOf({ colour: 'blue' })[0]).toMatch(
      /^colour: unknown field; allowed: appName, platform, instances, aws,/,
    );
  });

  test.each([
    [
      'memory that Fargate does not allow with that CPU',
      { container: { cpu: 512, memoryMiB: 512 } },
      'container.memoryMiB: with container.cpu 512, Fargate allows 1024 to 4096 in steps of 1024 MiB (got 512)',
    ],
    [
      'a test port that collides with production',
      { listeners: { testPort: 80 } },
      'listeners.testPort: must differ from the production ports 80 and 443 (got 80)',
    ],
    [
      'a health check timeout not shorter than its interval',
      { healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } },
      'healthCheck.timeoutSeconds: must be less than healthCheck.intervalSeconds (5) (got 5)',
    ],
    [
      'more NAT gateways than availability zones',
      { vpc: { maxAzs: 2, natGateways: 3 } },
      'vpc.natGateways: must be at most vpc.maxAzs (2) (got 3)',
    ],
    [
      'an environment variable bluegreen sets itself',
      { container: { environment: { BLUEGREEN_COLOR: 'red' } } },
      'container.environment.BLUEGREEN_COLOR: is set by bluegreen itself; choose another name',
    ],
    [
      'a certificate from another region',
      {
        listeners: {
          certificateArn:
            'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
          domainName: 'shop.example.com',
        },
      },
      "listeners.certificateArn: must be in the stack's region eu-west-1; the load balancer cannot use a certificate from us-east-1",
    ],
  ])('cross-field check: %s', (_what, overrides, expected) => {
    expect(problemsOf(overrides)).toEqual([expected]);
  });

  test('the manual gate is off by default; "before-switch" turns it on with a 60-minute timeout that aborts', () => {
    expect(parseConfig(BASE_CONFIG).approval).toEqual({ at: 'none' });
    expect(parseConfig({ ...BASE_CONFIG, approval: 'before-switch' }).approval).toEqual({
      at: 'before-switch',
      timeoutMinutes: 60,
      onTimeout: 'abort',
    });
    expect(
      parseConfig({
        ...BASE_CONFIG,
        approval: { at: 'before-switch', timeoutMinutes: 15, onTimeout: 'approve' },
      }).approval,
    ).toEqual({ at: 'before-switch', timeoutMinutes: 15, onTimeout: 'approve' });
    expect(problemsOf({ approval: 'after-switch' })).toEqual([
      'approval: must be "none", "before-switch", or {"at": "before-switch", "timeoutMinutes": 60, "onTimeout": "abort"} (got "after-switch")',
    ]);
    // The gate's timeout counts against the release's own timeout (the state machine would stop first).
    expect(problemsOf({ approval: { at: 'before-switch', timeoutMinutes: 600 } }).join()).toContain(
      'finishDelaySeconds + the approval timeout',
    );
  });

  test('gradual shifts: all at once by default; canary and linear parsed; the analysis with its defaults', () => {
    const config = parseConfig(BASE_CONFIG);
    expect(config.release.strategy).toEqual({ type: 'all-at-once' });
    expect(config.release.analysis).toEqual({
      minRequests: 100,
      errorSignificance: 0.005,
      latencyMargin: 0.25,
      latencyFloorMs: 20,
      minTailRequests: 10,
      latencyPercentile: 99,
      critical: { errors: true, latency: true },
      onInconclusive: 'extend',
      maxExtensions: 2,
      alarms: [],
      dryRun: false,
      settleSeconds: 180,
    });
    expect(
      parseConfig(
        merge(BASE_CONFIG, { release: { strategy: { type: 'canary', percent: 5, bakeSeconds: 600 } } }),
      ).release.strategy,
    ).toEqual({ type: 'canary', percent: 5, bakeSeconds: 600 });
    expect(
      parseConfig(merge(BASE_CONFIG, { release: { strategy: 'linear:20:3m' } })).release.strategy,
    ).toEqual({
      type: 'linear',
      stepPercent: 20,
      bakeSeconds: 180,
    });
  });

  test.each([
    [
      { strategy: { type: 'canary', percent: 10, bakeSeconds: 90 } },
      'release.strategy.bakeSeconds: must be a whole number from 120',
    ],
    [{ strategy: 'canary:1000:5m' }, 'release.strategy.percent: must be a percentage from 0.1 to 99.9'],
    [
      { analysis: { errorSignificance: 0.5 } },
      'release.analysis.errorSignificance: must be a number from 0.0001 to 0.2',
    ],
    [
      { analysis: { latencyPercentile: 98 } },
      'release.analysis.latencyPercentile: must be 50, 90, 95, 99 or 99.9',
    ],
    [{ analysis: { onInconclusive: 'pass' } }, 'release.analysis.onInconclusive: must be "extend"'],
    [
      { analysis: { stickySeconds: 0 } },
      'release.analysis.stickySeconds: must be a whole number from 1 to 604800',
    ],
    // 9 steps × (10 min bake + 3 min of metrics delay) × 3 tries does not fit in the default 120 minutes.
    [
      { strategy: 'linear:10:10m' },
      "of shift steps (each step's bake and metrics delay, with every allowed extension)",
    ],
  ])('release %j is refused: %s', (release, problem) => {
    expect(problemsOf({ release }).join('\n')).toContain(problem);
  });

  test('the GitHub deploy role is off by default and needs a repository as owner/name', () => {
    expect(parseConfig(BASE_CONFIG).githubDeployRole).toBeUndefined();
    expect(
      parseConfig({ ...BASE_CONFIG, githubDeployRole: { repository: 'acme/shop' } }).githubDeployRole,
    ).toEqual({ repository: 'acme/shop', branch: 'main' });
    expect(problemsOf({ githubDeployRole: { repository: 'https://github.com/acme/shop' } })).toEqual([
      'githubDeployRole.repository: must be a GitHub repository as "owner/name" (got "https://github.com/acme/shop")',
    ]);
  });

  test('the asg platform: instance type by architecture, checked against it, and room for the desired count', () => {
    const asg = parseConfig({ ...BASE_CONFIG, platform: 'asg' });
    expect(asg.instances).toEqual({
      type: 't4g.small',
      volumeGiB: 16,
      maxCount: 10,
      gracePeriodSeconds: 300,
    });
    expect(
      parseConfig({ ...BASE_CONFIG, platform: 'asg', container: { architecture: 'x86_64' } }).instances.type,
    ).toBe('t3.small');
    expect(problemsOf({ platform: 'asg', instances: { type: 'm7i.large' } })).toEqual([
      'instances.type: m7i.large is x86_64, but container.architecture is arm64: the image would not run (use "t4g.small" or another Graviton type, or change container.architecture)',
    ]);
    expect(
      problemsOf({ platform: 'asg', container: { desiredCount: 4 }, instances: { maxCount: 3 } }),
    ).toEqual([
      'instances.maxCount: must be at least container.desiredCount (4), the instances a color runs (got 3)',
    ]);
    // Fargate's CPU/memory pairs only matter on ECS.
    expect(() =>
      parseConfig({ ...BASE_CONFIG, platform: 'asg', container: { cpu: 512, memoryMiB: 512 } }),
    ).not.toThrow();
  });

  test('a certificate needs the DNS name it covers', () => {
    const cert = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
    expect(problemsOf({ listeners: { certificateArn: cert } })).toEqual([
      expect.stringMatching(/^listeners\.domainName: is required with a certificate/),
    ]);
    expect(
      parseConfig(merge(BASE_CONFIG, { listeners: { certificateArn: cert, domainName: 'shop.example.com' } }))
        .listeners.domainName,
    ).toBe('shop.example.com');
    expect(problemsOf({ listeners: { domainName: 'Shop Example' } })).toEqual([
      expect.stringMatching(/^listeners\.domainName: must be a lower-case DNS name/),
    ]);
  });

  test('an existing VPC needs account, region and the NAT addresses, and no settings of a new VPC', () => {
    const problems = problemsOf({
      aws: { region: undefined },
      vpc: { vpcId: 'vpc-0123456789abcdef0', cidr: '10.1.0.0/16' },
    });
    expect(problems).toEqual([
      expect.stringMatching(/^aws\.region: is required/),
      'vpc.cidr: only applies when bluegreen creates the VPC; remove it or remove vpc.vpcId',
      expect.stringMatching(
        /^aws: an existing VPC \(vpc\.vpcId\) is looked up in a known account and region/,
      ),
      expect.stringMatching(
        /^listeners\.testAllowedCidrs: with an existing VPC, list the public IPs of its NAT gateways/,
      ),
    ]);
  });

  test('every mistake is reported at once, field checks and cross-field checks together', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({
        appName: 'X',
        platform: 'k8s',
        image: { repository: 'nginx:1' },
        container: { cpu: 1024, memoryMiB: 1024, port: 0 },
        listeners: { testPort: 443 },
        surprise: true,
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.name).toBe('ConfigError');
    expect(error?.problems.map((p) => p.split(':')[0])).toEqual([
      'appName',
      'platform',
      'image.repository',
      'image.initialTag',
      'container.port',
      'surprise',
      'aws.region',
      'container.memoryMiB',
      'listeners.testPort',
    ]);
    expect(error?.message).toMatch(/^bluegreen\.config\.json has 9 problems:\n {2}- appName: /);
  });

  test('a file that is not JSON, or not there, is a configuration error too', () => {
    const dir = tempDir('bluegreen-config-');
    writeFileSync(join(dir, 'bad.json'), '{ "appName": ');
    expect(() => loadConfig(join(dir, 'bad.json'))).toThrow(
      /bad\.json has 1 problem:\n {2}- line 1, column 14: not valid JSON: /,
    );
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(
      /missing\.json has 1 problem:\n {2}- cannot be read/,
    );
  });

  test('invalid JSON is located by line and column, not by a character position', () => {
    const dir = tempDir('bluegreen-config-');
    const file = join(dir, 'comma.json');
    // The comma after "x" is missing: the mistake is where line 5 starts its next field.
    writeFileSync(
      file,
      '{\n  "appName": "shop",\n  "image": {\n    "repository": "x"\n    "initialTag": "v1"\n  }\n}\n',
    );
    let error: ConfigError | undefined;
    try {
      loadConfig(file);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toEqual([expect.stringMatching(/^line 5, column 5: not valid JSON: \S/)]);
    expect(error?.problems[0]).not.toMatch(/position/);
  });

  test('a missing section says it is required and what it needs, not "must be an object (got nothing)"', () => {
    expect(problemsOf({ image: undefined })).toEqual([
      'image: is required: an object with repository and initialTag (see "Configuration" in README.md)',
    ]);
    // A missing field says it is required, without a "(got nothing)" after it.
    expect(problemsOf({ image: { repository: undefined } })).toEqual([
      expect.stringMatching(/^image\.repository: is required: the image repository, e\.g\. "[^"]+"$/),
    ]);
  });

  test('private ECR repositories are recognised (their pull rights are granted), others are not', () => {
    expect(parseEcrRepository('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop')).toEqual({
      account: '123456789012',
      region: 'eu-west-1',
      name: 'team/shop',
    });
    expect(parseEcrRepository('public.ecr.aws/nginx/nginx')).toBeUndefined();
  });

  test('cdk synth with an invalid configuration exits 1 with the list of problems and no stack trace', () => {
    const dir = tempDir('bluegreen-config-');
    const file = join(dir, 'wrong.json');
    writeFileSync(file, JSON.stringify({ ...BASE_CONFIG, appName: 'Bad Name', container: { cpu: 3 } }));
    const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'bin/bluegreen.ts'], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, BLUEGREEN_CONFIG: file, CDK_OUTDIR: join(dir, 'out') },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${file} has 2 problems:`);
    expect(run.stderr).toContain('  - appName: must be 3-20 lowercase letters');
    expect(run.stderr).toContain('  - container.cpu: must be one of the Fargate CPU sizes');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('ranges that agree with what a deploy and a release accept', () => {
  const gate = (timeoutMinutes: number) => ({ at: 'before-switch', timeoutMinutes });
  const shortest = {
    deployTimeoutSeconds: 60,
    bakeSeconds: 0,
    finishDelaySeconds: 0,
    maxReleaseMinutes: 1440,
  };

  test('approval.timeoutMinutes goes up to what the longest release leaves, and that maximum is reachable', () => {
    expect(
      parseConfig(merge(BASE_CONFIG, { approval: gate(1429), release: shortest })).approval,
    ).toMatchObject({ timeoutMinutes: 1429 });
    expect(problemsOf({ approval: gate(1430), release: shortest })).toEqual([
      'approval.timeoutMinutes: must be a whole number from 1 to 1429 minutes (it counts against release.maxReleaseMinutes, at most 1440) (got 1430)',
    ]);
  });

  test('a gate too long for the release timeout names both fields and how long it may be', () => {
    expect(problemsOf({ approval: gate(600) })[0]).toBe(
      "approval.timeoutMinutes: 600 minutes of gate do not fit in release.maxReleaseMinutes (120) with the release's " +
        'other waits: at most 85 with these timings; shorten approval.timeoutMinutes or raise ' +
        'release.maxReleaseMinutes (up to 1440)',
    );
  });

  test('a certificate from another region is refused when the region comes from the CLI too', () => {
    const raw = merge(
      { ...BASE_CONFIG, aws: {} },
      {
        listeners: {
          certificateArn:
            'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
          domainName: 'shop.example.com',
        },
      },
    );
    expect(() => parseConfig(raw, 'bluegreen.config.json', { region: 'eu-west-1' })).toThrow(
      "listeners.certificateArn: must be in the stack's region eu-west-1 (from the CLI); the load balancer cannot use a certificate from us-east-1",
    );
    expect(parseConfig(raw, 'bluegreen.config.json', { region: 'us-east-1' }).aws.region).toBe('us-east-1');
  });
});
