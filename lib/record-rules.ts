/**
 * The service stack's Rule assertions on the release record (CloudFormation refuses a deploy whose record
 * contradicts itself, saying how to fix it). Rules compare whole strings only: no Fn::Split, no pattern.
 */
import { Fn, type CfnParameter, type ICfnRuleConditionExpression } from 'aws-cdk-lib';
import {
  formatRecordWeights,
  otherColor,
  type Color,
  type RecordParameterNames,
} from '../lambda/shared/release-record';
import { weightsFor } from '../lambda/shared/strategy';

export interface RuleAssertion {
  readonly assert: ICfnRuleConditionExpression;
  readonly assertDescription: string;
}

/**
 * A Rule assertion: when the record says `color` is live, its weights must not give `color` nothing. Rules can
 * only compare whole strings (no Fn::Split, no pattern), so this catches the values bluegreen itself writes for
 * "all on one color" ("100,0", "0,100") and "0,0": a weights parameter older than the live color (created as
 * "100,0" by the record stack where green was already live, or a live color set by hand), or a switch stopped
 * between its two writes. CloudFormation cannot know which of the two is right, so it refuses the deploy.
 */
export function liveColorHasTraffic(
  record: RecordParameterNames,
  liveColor: CfnParameter,
  weights: CfnParameter,
  color: Color,
): RuleAssertion {
  const other = otherColor(color);
  const allOnOther = formatRecordWeights(weightsFor(100, other));
  const allOnColor = formatRecordWeights(weightsFor(100, color));
  return {
    assert: Fn.conditionNot(
      Fn.conditionAnd(
        Fn.conditionEquals(liveColor.valueAsString, color),
        Fn.conditionContains([allOnOther, '0,0'], weights.valueAsString),
      ),
    ),
    assertDescription:
      `The release record contradicts itself: ${record.liveColor} says ${color} is live, but ${record.weights} ` +
      `gives ${color} no production traffic ("${allOnOther}" or "0,0"). Make it say what the production listener ` +
      `does (bluegreen status shows it), then deploy again. All traffic on ${color}: aws ssm put-parameter ` +
      `--overwrite --name ${record.weights} --value ${allOnColor}. All on ${other}: aws ssm put-parameter ` +
      `--overwrite --name ${record.weights} --value ${allOnOther} && aws ssm put-parameter --overwrite --name ` +
      `${record.liveColor} --value ${other}.`,
  };
}

/**
 * A Rule assertion (with scaling): the record must not pin its live color at no capacity ("0,0": min and max 0,
 * scale-in suspended), which would leave production without tasks or instances. bluegreen never writes it for
 * the live color (a release holds it at its count, at least 1): it is a value set by hand, or a record whose live
 * color was changed by hand. Rules compare whole strings, so this catches exactly that value.
 */
export function liveColorCanRun(
  record: RecordParameterNames,
  liveColor: CfnParameter,
  capacity: CfnParameter,
  color: Color,
): RuleAssertion {
  return {
    assert: Fn.conditionNot(
      Fn.conditionAnd(
        Fn.conditionEquals(liveColor.valueAsString, color),
        Fn.conditionEquals(capacity.valueAsString, '0,0'),
      ),
    ),
    assertDescription:
      `The release record pins the live color at nothing: ${record.liveColor} says ${color} is live, but ` +
      `${record.capacity[color]} is "0,0" (no ${color} task or instance may run). Unless a release is in flight ` +
      `(bluegreen status), give it its configured bounds: aws ssm put-parameter --overwrite --name ` +
      `${record.capacity[color]} --value auto, then deploy again.`,
  };
}
