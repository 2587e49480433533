import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { AlbTrafficRouter } from '../../../lambda/adapters/alb-traffic-router';

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
});
