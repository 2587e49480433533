/** The CLI on an app of the asg platform: the same commands, over Auto Scaling groups and launch templates. */
import { CancelInstanceRefreshCommand, DescribeInstanceRefreshesCommand } from '@aws-sdk/client-auto-scaling';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ME, MockAws, REPO, history, releaseOf } from './mock-aws';
import { bluegreen } from './support';

const V1 = `${REPO}:v1`;
const V2 = `${REPO}:v2`;
let aws: MockAws;
beforeEach(() => {
  aws = new MockAws('asg');
  history.reset();
});
afterEach(() => aws.restore());

/** Release v2-x (green, launch template version 4) in its bake: blue, on version 3 before, still warm. */
function inBake(): void {
  aws.record = { live: 'green', images: { blue: V1, green: V2 } };
  aws.weights = { blue: 0, green: 100 };
  aws.services.green = { desired: 2, running: 2, revision: 'lt-green:4' };
  const release = {
    ...releaseOf(V2),
    revision: 'lt-green:4',
    idleBefore: { count: 0, image: V1, revision: 'lt-green:3' },
  };
  aws.lock = { owner: 'v2-x', image: V2, since: 'now', expiresAt: Date.now() / 1000 + 3600 };
  aws.executions.push({
    name: 'v2-x',
    status: 'RUNNING',
    input: JSON.stringify({ image: V2, startedBy: ME }),
    start: new Date(),
    events: [history.entered('Bake: wait', 'Wait', { execution: 'v2-x', release })],
  });
}

describe('bluegreen on the asg platform', () => {
  test('status reads the groups: instances in service per color, target health, rollback readiness', async () => {
    const { code, out } = await bluegreen('status');
    expect(code).toBe(0);
    expect(out).toContain('  color  role  traffic  instances  healthy targets  image');
    expect(out).toContain(`  blue   live  100%     2/2        2/2              ${V1}`);
    expect(out).toContain('rollback: not possible: green has no running instances');
  });

  test("status with auto scaling: each group's instances, bounds, and scale-in suspended by its policies", async () => {
    aws.scaling = { minCount: 2, maxCount: 6 };
    aws.bounds = {
      blue: { min: 2, max: 6, scaleInSuspended: true },
      green: { min: 0, max: 0, scaleInSuspended: false },
    };
    aws.record.capacity = { blue: '2,6' };
    const { code, out } = await bluegreen('status');
    expect(code).toBe(0);
    expect(out).toContain(
      [
        'scaling:',
        '  blue  2 instances (bounds 2..6, scale-in suspended)',
        '  green 0 instances (bounds 0..0)',
      ].join('\n'),
    );
  });

  test("rollback during a bake: the state machine's rollback puts green's group back and lets scaling act", async () => {
    inBake();
    aws.suspended['shop-blue'] = ['AlarmNotification'];
    aws.suspended['shop-green'] = ['AlarmNotification'];

    const { code } = await bluegreen('rollback --yes');

    expect(code).toBe(0);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.record).toEqual({ live: 'blue', images: { blue: V1, green: V1 }, weights: '100,0' });
    expect(aws.services.green).toEqual({ desired: 0, running: 0, revision: 'lt-green:3' });
    expect(aws.retired).toEqual(['lt-green:4']);
    expect(aws.suspended).toEqual({ 'shop-blue': [], 'shop-green': [] });
    expect(aws.lock).toBeUndefined();
  });

  test('rollback during a bake while an instance refresh is still cancelling: waits for it as the state machine would, then puts green back', async () => {
    inBake();
    // Green's refresh takes four more looks to stop cancelling (more than three immediate tries would see).
    let looks = 0;
    let cancelled = false;
    aws.autoscaling
      .on(CancelInstanceRefreshCommand, { AutoScalingGroupName: 'shop-green' })
      .callsFake(() => ((cancelled = true), { InstanceRefreshId: 'r-1' }));
    aws.autoscaling
      .on(DescribeInstanceRefreshesCommand)
      .callsFake((input: { AutoScalingGroupName: string }) => ({
        InstanceRefreshes:
          input.AutoScalingGroupName === 'shop-green' && cancelled && ++looks <= 4
            ? [{ InstanceRefreshId: 'r-1', AutoScalingGroupName: 'shop-green', Status: 'Cancelling' }]
            : [],
      }));

    const { code, err } = await bluegreen('rollback --yes');

    expect(code).toBe(0);
    const waits = err.split('\n').filter((l) => l.startsWith('waiting '));
    expect(waits.map((l) => l.slice(0, l.indexOf(':')))).toEqual([
      'waiting 20 s (1/6)',
      'waiting 30 s (2/6)',
      'waiting 45 s (3/6)',
      'waiting 68 s (4/6)',
    ]);
    expect(aws.weights).toEqual({ blue: 100, green: 0 });
    expect(aws.services.green).toEqual({ desired: 0, running: 0, revision: 'lt-green:3' });
    expect(aws.lock).toBeUndefined();
  });

  test('rollback after a release is refused when the previous group has no instances; nothing changes', async () => {
    aws.record = { live: 'green', images: { blue: V1, green: V2 } };
    aws.weights = { blue: 0, green: 100 };
    aws.services.green = { desired: 2, running: 2, revision: 'lt-green:4' };
    aws.services.blue = { desired: 0, running: 0, revision: 'lt-blue:7' };
    const { code, err } = await bluegreen('rollback --yes');
    expect(code).toBe(1);
    expect(err).toContain('NotWarm: Cannot roll back to blue: blue has no running instances');
    expect(aws.elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });
});
