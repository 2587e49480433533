import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import type { LockResult, Promotion, ReleaseLock } from '../shared/ports';

export interface LockHolder {
  readonly owner: string;
  readonly image: string;
  readonly since: string;
  readonly expiresAt: string;
}

/**
 * The in-flight lock as one DynamoDB item per app, taken with a conditional write: free, or held by a release
 * whose lease (the state machine's timeout) has run out. Released only by its owner.
 */
export class DynamoDbReleaseLock implements ReleaseLock {
  static create(config: DynamoDBClientConfig, table: string, app: string): DynamoDbReleaseLock {
    return new DynamoDbReleaseLock(new DynamoDBClient(config), table, app);
  }

  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly table: string,
    private readonly app: string,
  ) {}

  async acquire(owner: string, image: string, now: Date, expiresAt: Date): Promise<LockResult> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            app: { S: this.app },
            owner: { S: owner },
            image: { S: image },
            since: { S: now.toISOString() },
            expiresAt: { N: String(Math.floor(expiresAt.getTime() / 1000)) },
          },
          ConditionExpression: 'attribute_not_exists(app) OR expiresAt < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':now': { N: String(Math.floor(now.getTime() / 1000)) },
            ':owner': { S: owner },
          },
        }),
      );
      return { acquired: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) {
        throw e;
      }
      const held = await this.holder();
      return {
        acquired: false,
        holder: held?.owner ?? 'unknown',
        image: held?.image ?? 'unknown',
        since: held?.since ?? 'unknown',
      };
    }
  }

  /**
   * Hands the lock from `from` to `to` (a manual rollback taking over a release's lock before stopping it), only
   * if `from` holds it. Returns false when it does not (the release ended and released it, or another holds it).
   */
  async handOver(from: string, to: string, now: Date, expiresAt: Date): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { app: { S: this.app } },
          UpdateExpression: 'SET #owner = :to, since = :since, expiresAt = :expires',
          ConditionExpression: '#owner = :from',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':from': { S: from },
            ':to': { S: to },
            ':since': { S: now.toISOString() },
            ':expires': { N: String(Math.floor(expiresAt.getTime() / 1000)) },
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        return false;
      }
      throw e;
    }
  }

  /** Who holds the lock now, if anyone (a consistent read; an expired lease is reported as such). */
  async holder(): Promise<LockHolder | undefined> {
    const held = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.table, Key: { app: { S: this.app } }, ConsistentRead: true }),
    );
    if (!held.Item) {
      return undefined;
    }
    return {
      owner: held.Item.owner?.S ?? 'unknown',
      image: held.Item.image?.S ?? 'unknown',
      since: held.Item.since?.S ?? 'unknown',
      expiresAt: new Date(Number(held.Item.expiresAt?.N ?? 0) * 1000).toISOString(),
    };
  }

  /** `bluegreen promote`'s request on the lock item, when it is `owner`'s (a consistent read). */
  async promotion(owner: string): Promise<Promotion | undefined> {
    const held = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.table, Key: { app: { S: this.app } }, ConsistentRead: true }),
    );
    const item = held.Item;
    if (!item || item.owner?.S !== owner || !item.promotedBy?.S) {
      return undefined;
    }
    return { by: item.promotedBy.S, at: item.promotedAt?.S ?? 'unknown' };
  }

  /**
   * Asks the release `owner` to skip its remaining shift steps (`bluegreen promote`), only while it holds the
   * lock. Returns false when it does not (it ended, or another release holds the lock).
   */
  async requestPromotion(owner: string, by: string, at: Date): Promise<boolean> {
    try {
      await this.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { app: { S: this.app } },
          UpdateExpression: 'SET promotedBy = :by, promotedAt = :at',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':owner': { S: owner },
            ':by': { S: by },
            ':at': { S: at.toISOString() },
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) {
        return false;
      }
      throw e;
    }
  }

  async release(owner: string): Promise<void> {
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { app: { S: this.app } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) {
        throw e;
      }
      // Not ours (or already gone): never free someone else's lock.
    }
  }
}
