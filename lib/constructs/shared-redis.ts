import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import type { RedisConnection } from './color-environment';

export interface SharedRedisProps {
  readonly appName: string;
  readonly vpc: ec2.IVpc;
  readonly nodeType: string;
  /** Read replicas; with at least one, Multi-AZ automatic failover is on. */
  readonly replicas: number;
}

/**
 * One Redis (ElastiCache replication group) shared by both colors, so a session created on blue is still
 * there after the switch to green. Private subnets, TLS in transit, encryption at rest, AUTH token.
 */
export class SharedRedis extends Construct implements RedisConnection {
  static readonly PORT = 6379;
  readonly url: string;
  readonly port = SharedRedis.PORT;
  readonly authToken: secretsmanager.Secret;
  readonly connections: ec2.Connections;
  readonly replicationGroup: elasticache.CfnReplicationGroup;

  constructor(scope: Construct, id: string, props: SharedRedisProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.appName} shared Redis: reachable from the blue and green tasks only`,
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({
      securityGroups: [securityGroup],
      defaultPort: ec2.Port.tcp(SharedRedis.PORT),
    });

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      secretName: `bluegreen/${props.appName}/redis-auth-token`,
      description: `bluegreen ${props.appName}: AUTH token of the shared session Redis`,
      // ElastiCache AUTH tokens: 16-128 printable characters, none of @ " / or spaces.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(
      this.authToken,
      'AwsSolutions-SMG4',
      'Rotating a Redis AUTH token takes a coordinated ModifyReplicationGroup (ROTATE, then SET) while both ' +
        'colors reconnect; it is an operator procedure documented in the README, not an automatic rotation.',
    );

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: `${props.appName} shared Redis`,
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    const multiAz = props.replicas > 0;
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `${props.appName} sessions, shared by blue and green`,
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      numCacheClusters: props.replicas + 1,
      automaticFailoverEnabled: multiAz,
      multiAzEnabled: multiAz,
      port: SharedRedis.PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
    });
    acknowledge(
      this.replicationGroup,
      'AwsSolutions-AEC5',
      'A non-default port adds no protection here: the security group admits only the two colors, and ' +
        'connections need TLS and the AUTH token.',
    );
    if (!multiAz) {
      acknowledge(
        this.replicationGroup,
        'AwsSolutions-AEC4',
        'The user set redis.replicas to 0 to save cost; sessions are lost if the single node fails.',
      );
    }

    this.url = `rediss://${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`;
  }
}
