/**
 * No step waits inside its Lambda for longer than the function's timeout allows: long waits are the state
 * machine's (Wait/Choice loops, Retry intervals). Each step's worst case is measured by running its core on a
 * fake clock (Jest's modern fake timers: every sleep, poll and deadline of the code, on its own constants) in the
 * situation that makes it wait longest, e.g. an instance refresh that never stops cancelling, and compared with
 * the synthesized function's Timeout.
 */
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { AsgFleet } from '../lambda/adapters/asg-fleet';
import type { ReleaseState } from '../lambda/shared/release';
import { abort, finish, rollback, rollbackFailed, stopped } from '../lambda/workflow/conclude';
import { startDeploy } from '../lambda/workflow/deploy';
import { FakeWorld, REPO } from './support/fake-world';
import { aRelease } from './support/release-fixture';
import { SETTINGS } from './support/run-workflow';
import { resourcesOfType, synth } from './support/synth';

const autoscaling = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const userData = (image: string) =>
  Buffer.from(`#!/bin/bash\nBLUEGREEN_IMAGE='${image}'\nBLUEGREEN_VERSION=''\n`, 'utf8').toString('base64');

/** An asg world where the green group's instance refresh, once cancelled, stays "Cancelling" forever. */
function refreshThatNeverStops(): AsgFleet {
  autoscaling.reset();
  ec2.reset();
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'shop-green',
        DesiredCapacity: 2,
        MinSize: 0,
        MaxSize: 10,
        DefaultCooldown: 120,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'ELB',
        CreatedTime: new Date(),
        LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '4' },
        Instances: [
          {
            InstanceId: 'i-1',
            LifecycleState: 'InService',
            HealthStatus: 'Healthy',
            AvailabilityZone: 'eu-west-1a',
            ProtectedFromScaleIn: false,
            LaunchTemplate: { LaunchTemplateId: 'lt-green', Version: '4' },
          },
        ],
      },
    ],
  });
  ec2.on(DescribeLaunchTemplateVersionsCommand).callsFake((input: { Versions: string[] }) => ({
    LaunchTemplateVersions: input.Versions.map((v) => ({
      VersionNumber: Number(v),
      LaunchTemplateData: { UserData: userData(v === '4' ? `${REPO}:v2` : `${REPO}:v1`) },
    })),
  }));
  autoscaling.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  autoscaling
    .on(DescribeInstanceRefreshesCommand)
    .resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: 'Cancelling' }] });
  autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
  autoscaling.on(StartInstanceRefreshCommand).resolves({});
  return new AsgFleet(new AutoScalingClient({}), new EC2Client({}), {
    groups: { blue: 'shop-blue', green: 'shop-green' },
    launchTemplates: { blue: 'lt-blue', green: 'lt-green' },
  });
}

function releaseState(): ReleaseState {
  return aRelease(
    { before: 'lt-green:3', release: 'lt-green:4' },
    {
      failure: { Error: 'UnhealthyAfterSwitch', Cause: 'check 3 failed' },
      rollbackFailure: { Error: 'ServiceUnavailable', Cause: 'listener' },
    },
  );
}

/** How long (fake-clock milliseconds) `run` spends waiting before it settles, resolved or rejected. */
async function waitedMs(run: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  let settled = false;
  void run().then(
    () => (settled = true),
    () => (settled = true),
  );
  await jest.advanceTimersByTimeAsync(0);
  // Step a second at a time; the cap (Lambda's 15-minute maximum) keeps a wait that never ends from hanging the test.
  while (!settled && Date.now() - start < 15 * 60_000) {
    await jest.advanceTimersByTimeAsync(1000);
  }
  return Date.now() - start;
}

describe('in-Lambda waits fit their function’s timeout (asg: a cancelled instance refresh that does not stop)', () => {
  const { serviceJson } = synth({ platform: 'asg' });
  const functions = Object.entries(resourcesOfType(serviceJson, 'AWS::Lambda::Function'));
  const timeoutMs = (step: string) => {
    const found = functions.filter(([id]) =>
      new RegExp(`^ReleaseWorkflowSteps${step}Function[0-9A-F]{8}$`).test(id),
    );
    expect(found).toHaveLength(1);
    return Number(found[0][1].Timeout) * 1000;
  };

  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-11-26T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  const steps: [string, (world: FakeWorld, fleet: AsgFleet) => Promise<unknown>][] = [
    ['Deploy', (world, fleet) => startDeploy(releaseState(), { ...world.deps(), fleet })],
    ['Abort', (world, fleet) => abort(releaseState(), { ...world.deps(), fleet }, SETTINGS)],
    ['Rollback', (world, fleet) => rollback(releaseState(), { ...world.deps(), fleet }, SETTINGS)],
    ['Finish', (world, fleet) => finish(releaseState(), { ...world.deps(), fleet }, SETTINGS)],
    [
      'RollbackFailed',
      (world, fleet) => rollbackFailed(releaseState(), { ...world.deps(), fleet }, SETTINGS),
    ],
    [
      'Stopped',
      (world, fleet) =>
        stopped({ execution: 'release-1', status: 'TIMED_OUT' }, { ...world.deps(), fleet }, SETTINGS),
    ],
  ];

  test.each(steps)('%s', async (step, run) => {
    const world = new FakeWorld(`${REPO}:v1`);
    const fleet = refreshThatNeverStops();
    const waited = await waitedMs(() => run(world, fleet));
    expect({ step, waited, fits: waited <= timeoutMs(step) }).toEqual({ step, waited, fits: true });
  });
});
