import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { DESCRIPTION, handler } from '../../lambda/live-color-widget';
import { recordParameterNames } from '../../lambda/shared/release-record';

const names = recordParameterNames('shop');
const ssm = mockClient(SSMClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const BLUE = 'arn:tg/shop-blue';
const GREEN = 'arn:tg/shop-green';

function world(live: string, weights: { blue: number; green: number }) {
  ssm.on(GetParametersCommand).resolves({
    Parameters: [
      { Name: names.liveColor, Value: live },
      { Name: names.image.blue, Value: 'repo:v1' },
      { Name: names.image.green, Value: 'repo:v2<script>' },
    ],
  });
  elb.on(DescribeListenersCommand).resolves({
    Listeners: [
      {
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: BLUE, Weight: weights.blue },
                { TargetGroupArn: GREEN, Weight: weights.green },
              ],
            },
          },
        ],
      },
    ],
  });
}

beforeEach(() => {
  ssm.reset();
  elb.reset();
  Object.assign(process.env, {
    APP_NAME: 'shop',
    PRODUCTION_LISTENER_ARN: 'arn:listener',
    BLUE_TARGET_GROUP_ARN: BLUE,
    GREEN_TARGET_GROUP_ARN: GREEN,
  });
});

describe('live-color dashboard widget', () => {
  test('documents itself when the console asks', async () => {
    await expect(handler({ describe: true })).resolves.toBe(DESCRIPTION);
  });

  test('shows the live color, each color’s share and image (escaped)', async () => {
    world('green', { blue: 0, green: 100 });
    const html = await handler({});
    expect(html).toContain('>GREEN</span> is live');
    expect(html).toMatch(
      /<b style="color:#2ca02c">green<\/b><\/td><td>live \(per record\)<\/td><td>100%<\/td>/,
    );
    expect(html).toMatch(/<b style="color:#1f77b4">blue<\/b><\/td><td>idle<\/td><td>0%<\/td>/);
    expect(html).toContain('repo:v2&#60;script&#62;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('DRIFT');
  });

  test('shows drift in red when the record and the listener disagree', async () => {
    world('blue', { blue: 0, green: 100 });
    const html = await handler({});
    expect(html).toContain('DRIFT: record says blue, listener sends all production traffic to green');
  });

  test('a broken record is shown as the named error, not a Lambda failure', async () => {
    world('purple', { blue: 100, green: 0 });
    const html = await handler({});
    expect(html).toContain('RecordInvalid');
    expect(html).toContain('holds &#34;purple&#34;');
  });
});
