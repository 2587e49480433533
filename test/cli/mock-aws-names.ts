/**
 * The names in the CLI tests' AWS (test/cli/mock-aws.ts): account, region, the state machine, the image
 * repository, the caller, the listener and rule, and each color's target group and service (or group).
 */
import type { Color } from '../../lambda/shared/release-record';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:bluegreen-shop-release`;
export const REPO = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/shop`;
export const TD_PREFIX = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/';
export const ME = `arn:aws:sts::${ACCOUNT}:assumed-role/operator/alice`;
export const LISTENER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/shop/1/prod`;
export const RULE = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/shop/1/test/rule`;
export const TG: Record<Color, string> = {
  blue: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/shop-blue/1`,
  green: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/shop-green/2`,
};
export const SERVICE: Record<Color, string> = { blue: 'shop-blue', green: 'shop-green' };

export function arnOf(name: string): string {
  return MACHINE.replace(':stateMachine:', ':execution:') + `:${name}`;
}
