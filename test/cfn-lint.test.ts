/**
 * cfn-lint, AWS's own CloudFormation linter (an implementation we did not write), over both stacks of a matrix
 * of configurations: zero errors and zero warnings except the findings test/support/cfn-lint-accepted.ts lists,
 * each with its reason, on the resource types it names.
 *
 * One cfn-lint run over every template (it is Python: each start costs seconds); identical templates (the
 * record stack is the same in most variants) are linted once. Without cfn-lint (`pip install cfn-lint`) the
 * tier says so and skips.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ACCEPTED_FINDINGS, acceptedFor, type CfnLintFinding } from './support/cfn-lint-accepted';
import { BASE_CONFIG, synth, type CfnTemplate } from './support/synth';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
const MIGRATIONS = { migrations: { command: ['node', 'migrate.js'] }, database: {} };
const EVERYTHING = {
  listeners: { certificateArn: CERT, domainName: 'shop.example.com' },
  redis: { enabled: true },
  ...MIGRATIONS,
  githubDeployRole: { repository: 'acme/shop' },
  approval: 'before-switch' as const,
  keepIdleWarm: true,
  // Four migration phases, an hour's approval and a canary need more than the default two hours.
  release: {
    maxReleaseMinutes: 240,
    strategy: 'canary:10:5m',
    analysis: { stickySeconds: 600, alarms: ['shop-checkout-errors'] },
  },
};

const VARIANTS: Record<string, Parameters<typeof synth>[0]> = {
  default: {},
  asg: { platform: 'asg' },
  HTTPS: { listeners: { certificateArn: CERT, domainName: 'shop.example.com' } },
  Redis: { redis: { enabled: true } },
  'migrations + database (ecs)': MIGRATIONS,
  'migrations + database (asg)': { platform: 'asg', ...MIGRATIONS },
  'GitHub deploy role': { githubDeployRole: { repository: 'acme/shop' } },
  'Slack notifications': { notifications: { slack: { workspaceId: 'T07EXAMPLE', channelId: 'C07EXAMPLE' } } },
  approval: { approval: 'before-switch' },
  keepIdleWarm: { keepIdleWarm: true },
  'lifecycle hooks, canary (asg)': {
    platform: 'asg',
    release: {
      strategy: 'canary:10:5m',
      hooks: {
        beforeDeploy: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-admission' },
        afterShift: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-tests:live' },
        onRollback: { functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shop-page-on-call' },
      },
    },
  },
  'everything (ecs)': EVERYTHING,
  'everything (asg)': { platform: 'asg', ...EVERYTHING },
  'auto scaling (ecs)': {
    scaling: {
      minCount: 2,
      maxCount: 20,
      targets: { requestsPerTarget: 1000, cpuPercent: 60, memoryPercent: 70 },
    },
  },
  'auto scaling, warm idle color, canary (asg)': {
    platform: 'asg',
    keepIdleWarm: true,
    instances: { maxCount: 20 },
    release: { strategy: 'canary:10:5m' },
    scaling: { minCount: 2, maxCount: 20, targets: { requestsPerTarget: 1000, cpuPercent: 60 } },
  },
};

const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const installed = version.status === 0;
if (!installed) {
  console.warn('cfn-lint is not installed: the templates are not linted (pip install cfn-lint); skipping.');
}

const BROKEN = 'known-defect.json';

interface Linted {
  readonly file: string;
  /** Resource types by logical id, to tell which resource a finding is on. */
  readonly types: Record<string, string>;
}

(installed ? describe : describe.skip)(
  `${version.stdout?.trim() || 'cfn-lint'} over the template matrix`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'bluegreen-cfn-lint-'));
    /** Per variant, its stacks (record, service) by name → the file linted for it. */
    const stacks = new Map<string, Map<string, Linted>>();
    let findings: CfnLintFinding[] = [];

    beforeAll(async () => {
      const files = new Map<string, Linted>(); // by content hash
      for (const [variant, overrides] of Object.entries(VARIANTS)) {
        const s = synth(overrides);
        const mine = new Map<string, Linted>();
        for (const stack of [s.stacks.record, s.stacks.service]) {
          const text = readFileSync(join(s.app.outdir, stack.templateFile), 'utf8');
          const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
          if (!files.has(hash)) {
            const file = join(dir, `${hash}-${stack.stackName}.json`);
            writeFileSync(file, text);
            const t = JSON.parse(text) as CfnTemplate;
            files.set(hash, {
              file,
              types: Object.fromEntries(Object.entries(t.Resources).map(([id, r]) => [id, r.Type])),
            });
          }
          mine.set(stack.stackName, files.get(hash)!);
        }
        stacks.set(variant, mine);
        rmSync(s.app.outdir, { recursive: true, force: true });
      }
      // A template with a known defect, in the same run: proves the linter runs and reports.
      writeFileSync(
        join(dir, BROKEN),
        JSON.stringify({
          Resources: {
            Listener: {
              Type: 'AWS::ElasticLoadBalancingV2::Listener',
              Properties: {
                LoadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1',
                Port: 80,
              },
            },
          },
        }),
      );
      findings = await cfnLint([...[...files.values()].map((f) => f.file), join(dir, BROKEN)]);
    }, 600_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Each finding on a template, with the accepted entry that covers it (if any). */
    function review(linted: Linted) {
      return findings
        .filter((f) => basename(f.Filename) === basename(linted.file))
        .map((f) => ({ finding: f, accepted: acceptedFor(f, linted.types[String(f.Location.Path[1])]) }));
    }

    test.each(Object.keys(VARIANTS))(
      '%s: no error or warning but the accepted ones, in both stacks',
      (variant) => {
        const unexpected = [...stacks.get(variant)!].flatMap(([stack, linted]) =>
          review(linted)
            .filter((r) => !r.accepted)
            .map(
              ({ finding: f }) =>
                `${stack}: ${f.Level} ${f.Rule.Id} at ${f.Location.Path.join('/')} ` +
                `(${linted.types[String(f.Location.Path[1])] ?? 'not a resource'}): ${f.Message}`,
            ),
        );
        expect(unexpected).toEqual([]);
      },
    );

    test('every accepted finding is still found, on each resource type it names (an acceptance nothing needs must go)', () => {
      const used = new Set(
        [...stacks.values()].flatMap((m) =>
          [...m.values()].flatMap((l) =>
            review(l).map(
              (r) => r.accepted && `${r.accepted.rule} on ${l.types[String(r.finding.Location.Path[1])]}`,
            ),
          ),
        ),
      );
      const listed = ACCEPTED_FINDINGS.flatMap((a) => a.resourceTypes.map((type) => `${a.rule} on ${type}`));
      expect(listed.filter((entry) => !used.has(entry))).toEqual([]);
    });

    test('the linter really reports: a listener without its required DefaultActions is an error', () => {
      expect(
        findings.filter((f) => basename(f.Filename) === BROKEN).map((f) => [f.Rule.Id, f.Level, f.Message]),
      ).toContainEqual(['E3003', 'Error', "'DefaultActions' is a required property"]);
    });
  },
);

/** Runs cfn-lint once over `files` (in the app's region) and returns its findings. */
function cfnLint(files: string[]): Promise<CfnLintFinding[]> {
  const region = BASE_CONFIG.aws?.region ?? 'eu-west-1';
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--format', 'json', '--regions', region, '--', ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      // Exit code bits: 2 errors, 4 warnings, 8 informational findings; 1 (odd) means cfn-lint itself failed.
      if (code === null || code % 2 === 1) {
        reject(new Error(`cfn-lint failed (exit ${code}): ${err.slice(0, 2000)}`));
        return;
      }
      resolve(JSON.parse(out || '[]') as CfnLintFinding[]);
    });
  });
}
