/**
 * CloudWatch custom widget for the side-by-side dashboard: which color is live, read from the release record
 * and from the production listener at the moment the dashboard is viewed.
 */
import { BluegreenError } from './shared/errors';
import type { ReleaseRecordStore, TrafficRouter } from './shared/ports';
import { escapeHtml, readLiveStatus, renderLiveStatus } from './shared/live-status';
import { recordParameterNames } from './shared/release-record';

/** The two adapters, loaded (with their SDK clients) on the first view, then kept for the container's life. */
let ports: Promise<{ record: ReleaseRecordStore; router: TrafficRouter }> | undefined;

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
    const listener = requiredEnv('PRODUCTION_LISTENER_ARN');
    const targetGroupArns = {
      blue: requiredEnv('BLUE_TARGET_GROUP_ARN'),
      green: requiredEnv('GREEN_TARGET_GROUP_ARN'),
    };
    ports ??= Promise.all([
      import('./adapters/ssm-release-record'),
      import('./adapters/alb-traffic-router'),
    ]).then(([ssm, alb]) => ({
      record: ssm.SsmReleaseRecordStore.create({}, names),
      router: alb.AlbTrafficRouter.create({}, { productionListenerArn: listener, targetGroupArns }),
    }));
    const status = await readLiveStatus(await ports, names.liveColor);
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
