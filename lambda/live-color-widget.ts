/**
 * CloudWatch custom widget for the side-by-side dashboard: which color is live, read from the release record
 * and from the production listener at the moment the dashboard is viewed.
 */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AlbTrafficRouter } from './adapters/alb-traffic-router';
import { SsmReleaseRecordStore } from './adapters/ssm-release-record';
import { BluegreenError } from './shared/errors';
import { escapeHtml, readLiveStatus, renderLiveStatus } from './shared/live-status';
import { recordParameterNames } from './shared/release-record';

const ssm = new SSMClient({});
const elb = new ElasticLoadBalancingV2Client({});

export interface CustomWidgetEvent {
  /** Set when the console asks the widget to document itself. */
  readonly describe?: boolean;
}

export const DESCRIPTION =
  '### bluegreen live color\nShows the color the release record says is live, the share of production traffic ' +
  'the listener sends to each color, the image each color runs, and any drift between record and listener.';

export async function handler(event: CustomWidgetEvent): Promise<string> {
  if (event.describe) {
    return DESCRIPTION;
  }
  const appName = requiredEnv('APP_NAME');
  const names = recordParameterNames(appName);
  try {
    const status = await readLiveStatus(
      {
        record: new SsmReleaseRecordStore(ssm, names),
        router: new AlbTrafficRouter(elb, {
          productionListenerArn: requiredEnv('PRODUCTION_LISTENER_ARN'),
          targetGroupArns: {
            blue: requiredEnv('BLUE_TARGET_GROUP_ARN'),
            green: requiredEnv('GREEN_TARGET_GROUP_ARN'),
          },
        }),
      },
      names.liveColor,
    );
    return renderLiveStatus(appName, status);
  } catch (e) {
    // A named error is something the operator can act on: show it in the widget instead of a Lambda failure.
    if (e instanceof BluegreenError) {
      return `<h2 style="color:#d62728">${escapeHtml(e.name)}</h2><p>${escapeHtml(e.message)}</p>`;
    }
    throw e;
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new BluegreenError(
      'ConfigurationMissing',
      `The widget function has no ${name} environment variable.`,
    );
  }
  return value;
}
