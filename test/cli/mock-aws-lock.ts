/**
 * The CLI tests' AWS (test/cli/mock-aws.ts): the DynamoDB release lock, taken, handed over, promoted and
 * released with the conditions the real table applies.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { MockAws } from './mock-aws';

/** GetItem, PutItem, UpdateItem and DeleteItem on the lock item, failing their conditions as DynamoDB does. */
export function mockLock(aws: MockAws): void {
  aws.ddb.on(GetItemCommand).callsFake(() => ({
    Item: aws.lock
      ? {
          app: { S: 'shop' },
          owner: { S: aws.lock.owner },
          image: { S: aws.lock.image },
          since: { S: aws.lock.since },
          expiresAt: { N: String(aws.lock.expiresAt) },
          ...(aws.lock.promotion
            ? { promotedBy: { S: aws.lock.promotion.by }, promotedAt: { S: aws.lock.promotion.at } }
            : {}),
        }
      : undefined,
  }));
  aws.ddb.on(PutItemCommand).callsFake((input: { Item: Record<string, { S?: string; N?: string }> }) => {
    const now = Math.floor(Date.now() / 1000);
    if (aws.lock && aws.lock.expiresAt >= now && aws.lock.owner !== input.Item.owner.S) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      });
    }
    aws.lock = {
      owner: input.Item.owner.S!,
      image: input.Item.image.S!,
      since: input.Item.since.S!,
      expiresAt: Number(input.Item.expiresAt.N),
    };
    return {};
  });
  aws.ddb
    .on(UpdateItemCommand)
    .callsFake((input: { ExpressionAttributeValues: Record<string, { S?: string; N?: string }> }) => {
      const v = input.ExpressionAttributeValues;
      const failed = () =>
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      if (v[':by']) {
        // requestPromotion: only while the owner holds the lock.
        if (!aws.lock || aws.lock.owner !== v[':owner'].S) {
          throw failed();
        }
        aws.lock = { ...aws.lock, promotion: { by: v[':by'].S!, at: v[':at'].S! } };
        return {};
      }
      if (!aws.lock || aws.lock.owner !== v[':from'].S) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      }
      aws.lock = {
        ...aws.lock,
        owner: v[':to'].S!,
        since: v[':since'].S!,
        expiresAt: Number(v[':expires'].N),
      };
      return {};
    });
  aws.ddb
    .on(DeleteItemCommand)
    .callsFake((input: { ExpressionAttributeValues: Record<string, { S: string }> }) => {
      if (aws.lock?.owner === input.ExpressionAttributeValues[':owner'].S) {
        aws.lock = undefined;
      }
      return {};
    });
}
