/**
 * Runs every minute (an EventBridge schedule) when keepIdleWarm and auto scaling are configured: the idle color
 * follows the live color's count between releases. Core: workflow/follow-live.ts.
 */
import { aws } from './adapters/aws-deps';
import { logger } from './shared/step-handler';
import { followLive, type Followed } from './workflow/follow-live';

export async function handler(): Promise<Followed> {
  const { deps, settings } = aws();
  logger.appendKeys({ step: 'Follow live capacity' });
  const followed = await followLive(deps, settings.workflow);
  logger.info(followed.said, { changed: followed.changed });
  return followed;
}
