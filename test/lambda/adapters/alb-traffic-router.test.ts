import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { ALB_MAX_STICKY_SECONDS, AlbTrafficRouter } from '../../../lambda/adapters/alb-traffic-router';

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/1/2';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/1';
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/2';
const elb = mockClient(ElasticLoadBalancingV2Client);
const router = new AlbTrafficRouter(new ElasticLoadBalancingV2Client({}), {
  productionListenerArn: LISTENER,
  targetGroupArns: { blue: BLUE, green: GREEN },
});

beforeEach(() => elb.reset());

describe('AlbTrafficRouter', () => {
  test('reads the weights of the weighted forward action of the production listener', async () => {
    elb.on(DescribeListenersCommand, { ListenerArns: [LISTENER] }).resolves({
      Listeners: [
        {
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: BLUE, Weight: 10 },
                  { TargetGroupArn: GREEN, Weight: 90 },
                ],
              },
            },
          ],
        },
      ],
    });
    await expect(router.productionWeights()).resolves.toEqual({ blue: 10, green: 90 });
  });

  test('a plain (unweighted) forward to one target group means all traffic to it', async () => {
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [{ DefaultActions: [{ Type: 'forward', TargetGroupArn: GREEN }] }],
    });
    await expect(router.productionWeights()).resolves.toEqual({ blue: 0, green: 1 });
  });

  test('a target group that is not blue or green is a named error', async () => {
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [{ DefaultActions: [{ Type: 'forward', TargetGroupArn: 'arn:other' }] }],
    });
    await expect(router.productionWeights()).rejects.toMatchObject({
      name: 'RouterInvalid',
      message: expect.stringContaining(
        'forwards to arn:other, which is neither the blue nor the green target group',
      ),
    });
  });

  test('a listener without a forward action is a named error', async () => {
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [{ DefaultActions: [{ Type: 'fixed-response' }] }],
    });
    await expect(router.productionWeights()).rejects.toMatchObject({ name: 'RouterInvalid' });
  });

  describe('setProductionWeights', () => {
    const modified = () => elb.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input);
    const forward = (weights: [number, number], stickiness: object) => ({
      ListenerArn: LISTENER,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: BLUE, Weight: weights[0] },
              { TargetGroupArn: GREEN, Weight: weights[1] },
            ],
            TargetGroupStickinessConfig: stickiness,
          },
        },
      ],
    });

    test('with stickySeconds: the split and group-level stickiness in one ModifyListener', async () => {
      elb.on(ModifyListenerCommand).resolves({});
      await router.setProductionWeights({ blue: 900, green: 100 }, { stickySeconds: 600 });
      expect(modified()).toEqual([forward([900, 100], { Enabled: true, DurationSeconds: 600 })]);
    });

    test('without it (a switch, a rollback, a promotion): stickiness off in the same change', async () => {
      elb.on(ModifyListenerCommand).resolves({});
      await router.setProductionWeights({ blue: 0, green: 100 });
      await router.setProductionWeights({ blue: 100, green: 0 }, {});
      expect(modified()).toEqual([
        forward([0, 100], { Enabled: false }),
        forward([100, 0], { Enabled: false }),
      ]);
    });

    test("ALB's limits: 1 s and 7 days are accepted", async () => {
      elb.on(ModifyListenerCommand).resolves({});
      await router.setProductionWeights({ blue: 500, green: 500 }, { stickySeconds: 1 });
      await router.setProductionWeights({ blue: 500, green: 500 }, { stickySeconds: ALB_MAX_STICKY_SECONDS });
      expect(modified().map((m) => m.DefaultActions![0].ForwardConfig!.TargetGroupStickinessConfig)).toEqual([
        { Enabled: true, DurationSeconds: 1 },
        { Enabled: true, DurationSeconds: 604_800 },
      ]);
    });

    test.each([0, -5, 604_801, 2.5, Number.NaN])(
      'stickiness ALB would refuse (%p s) is a one-line InvalidInput, and the listener is not touched',
      async (stickySeconds) => {
        elb.on(ModifyListenerCommand).resolves({});
        await expect(
          router.setProductionWeights({ blue: 900, green: 100 }, { stickySeconds }),
        ).rejects.toMatchObject({
          name: 'InvalidInput',
          message: expect.stringMatching(/from 1 to 604800.*The production listener was not changed\.$/),
        });
        expect(modified()).toEqual([]);
      },
    );
  });
});
