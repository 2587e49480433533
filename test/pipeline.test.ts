/**
 * The GitHub Actions pipeline users copy (pipeline/github-actions-release.yml): parsed as YAML and checked for
 * what the README promises: OIDC with no static keys, the image tagged with the commit SHA, cdk deploy only on a
 * change, and a release that fails the job when it fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BASE_CONFIG, resourcesOfType, synth } from './support/synth';
import { tempDir } from './support/temp';

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}

const workflow = parse(
  readFileSync(join(__dirname, '..', 'pipeline', 'github-actions-release.yml'), 'utf8'),
) as {
  on: { push: { branches: string[] } };
  permissions: Record<string, string>;
  concurrency: { 'cancel-in-progress': boolean };
  jobs: { release: { steps: Step[]; 'timeout-minutes': number } };
};
const steps = workflow.jobs.release.steps;
const step = (pattern: RegExp) => {
  const found = steps.find((s) => pattern.test(s.name ?? s.uses ?? ''));
  if (!found) {
    throw new Error(`no step matches ${String(pattern)}`);
  }
  return found;
};

describe('GitHub Actions pipeline', () => {
  test('runs on a push to main, one release at a time, never cancelling one in flight', () => {
    expect(workflow.on.push.branches).toEqual(['main']);
    expect(workflow.concurrency['cancel-in-progress']).toBe(false);
  });

  test('authenticates with OIDC: id-token permission, role-to-assume, no static keys anywhere', () => {
    expect(workflow.permissions['id-token']).toBe('write');
    const creds = steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    // Once to build and deploy, once more right before the release, so --wait gets a whole session.
    expect(creds).toHaveLength(2);
    expect(steps.indexOf(creds[1])).toBe(steps.length - 2);
    for (const c of creds) {
      expect(c.uses).toMatch(/^aws-actions\/configure-aws-credentials@v\d+$/);
      expect(c.with?.['role-to-assume']).toBe('${{ vars.BLUEGREEN_DEPLOY_ROLE_ARN }}');
      expect(c.with?.['role-duration-seconds']).toBe('${{ steps.session.outputs.seconds }}');
    }
    const text = JSON.stringify(workflow);
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
  });

  test('asks for the session length the deploy role allows, for any maxReleaseMinutes', () => {
    const script = step(/^Session length/).run!;
    const releases = [
      {},
      { maxReleaseMinutes: 15, deployTimeoutSeconds: 60, bakeSeconds: 60, finishDelaySeconds: 0 },
      { maxReleaseMinutes: 400 },
      { maxReleaseMinutes: 1440 },
    ];
    for (const release of releases) {
      const dir = tempDir('bluegreen-pipeline-');
      writeFileSync(join(dir, 'bluegreen.config.json'), JSON.stringify({ ...BASE_CONFIG, release }));
      const output = join(dir, 'out');
      const run = spawnSync('bash', ['-e', '-c', script], {
        cwd: dir,
        env: { ...process.env, GITHUB_OUTPUT: output },
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      const seconds = Number(/seconds=(\d+)/.exec(readFileSync(output, 'utf8'))![1]);
      // The role's MaxSessionDuration for the same configuration.
      const t = synth({ release, githubDeployRole: { repository: 'acme/shop' } });
      const [role] = Object.values(resourcesOfType(t.serviceJson, 'AWS::IAM::Role')).filter(
        (r) => r.RoleName === 'bluegreen-shop-github-deploy',
      );
      expect(seconds).toBe(role.MaxSessionDuration);
    }
  });

  test('builds and pushes the image to the configured repository, tagged with the commit SHA', () => {
    const build = step(/^Build and push/);
    expect(build.run).toContain('jq -r .image.repository bluegreen.config.json');
    expect(build.run).toContain('image="${repository}:${GITHUB_SHA}"');
    expect(build.run).toContain('docker push "$image"');
    expect(steps.indexOf(step(/ECR/))).toBeLessThan(steps.indexOf(build));
  });

  test('cdk deploy only when cdk diff finds a change', () => {
    expect(step(/infrastructure change\?/).run).toContain('npx cdk diff --all --fail');
    const deploy = step(/^cdk deploy/);
    expect(deploy.if).toBe("steps.diff.outputs.changed == 'true'");
    expect(deploy.run).toBe('npx cdk deploy --all --require-approval never');
  });

  test('releases last, with --wait, so a failed or rolled-back release fails the job', () => {
    const release = steps[steps.length - 1];
    expect(release.run).toBe('npx bluegreen release --image "${{ steps.image.outputs.ref }}" --wait');
    // The job outlives the longest release (maxReleaseMinutes default 120).
    expect(workflow.jobs.release['timeout-minutes']).toBeGreaterThan(120);
    expect(workflow.jobs.release['timeout-minutes']).toBeLessThanOrEqual(360); // GitHub-hosted runners' limit
  });

  test('every action is pinned to a major version', () => {
    for (const s of steps.filter((x) => x.uses)) {
      expect(s.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
    }
  });
});
