import { posix } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { shellQuote } from '../../lambda/shared/user-data';
import type { BluegreenConfig } from '../config';
import { acknowledge } from '../nag';

export interface DatabaseProps {
  /** The app's configuration; `config.database` must be set. */
  readonly config: BluegreenConfig;
  /** The VPC whose private subnets hold the cluster. */
  readonly vpc: ec2.IVpc;
}

/**
 * The standard PostgreSQL client variables and the field of the secret's JSON each one comes from. libpq (psql,
 * most drivers) and node-postgres read them by themselves, so a container connects with no code.
 */
export const PG_VARIABLES = {
  PGHOST: 'host',
  PGPORT: 'port',
  PGDATABASE: 'dbname',
  PGUSER: 'username',
  PGPASSWORD: 'password',
} as const;

/** The master user's name in the generated secret (CDK's default for Aurora PostgreSQL). */
const MASTER_USERNAME = 'postgres';

/**
 * The shared PostgreSQL database of both colors (and of the migration task): one Aurora Serverless v2 cluster in
 * the private subnets, storage encrypted, credentials generated into Secrets Manager, postgresql logs in
 * CloudWatch, backups kept 7 days and a final snapshot when it is removed. Its security group admits nothing
 * until `allowFrom` lets a peer in, on the PostgreSQL port only.
 */
export class Database extends Construct {
  static readonly PORT = 5432;
  readonly port = Database.PORT;
  readonly cluster: rds.DatabaseCluster;
  /**
   * The master credentials, as JSON: host, port, dbname, username, password (and engine, dbClusterIdentifier).
   * Consumers of this reference wait for the cluster to be attached, so host and port are there when they read.
   */
  readonly secret: secretsmanager.ISecret;
  /** The cluster's postgresql log group (`/aws/rds/cluster/<id>/postgresql`), with the app's retention. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { config, vpc } = props;
    const settings = config.database;
    if (!settings) {
      throw new Error('Database needs config.database: add a "database" section to the configuration.');
    }
    const { appName } = config;
    const clusterIdentifier = `${appName}-database`;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `${appName} shared database: PostgreSQL from the blue and green compute and the migrations only`,
      allowAllOutbound: false,
    });

    // rds.Credentials.fromGeneratedSecret makes this same DatabaseSecret but cannot put the database name in it;
    // with `dbname` in the JSON, PGDATABASE comes from the secret like the other four variables.
    const masterSecret = new rds.DatabaseSecret(this, 'Secret', {
      username: MASTER_USERNAME,
      dbname: settings.databaseName,
      secretName: `bluegreen/${appName}/database`,
    });
    acknowledge(
      masterSecret,
      'AwsSolutions-SMG4',
      'The colors read these credentials when a task or instance starts; single-user rotation would change the ' +
        'password under running tasks and instances. Rotation needs the multi-user (alternating users) scheme ' +
        'with an application user, which is an operator procedure, not set up by default.',
    );

    // Created before the cluster, so the postgresql log export lands in a group with the app's retention (RDS
    // would otherwise create it, kept forever).
    this.logGroup = new logs.LogGroup(this, 'PostgresqlLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_9 }),
      clusterIdentifier,
      writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false }),
      serverlessV2MinCapacity: settings.minCapacity,
      serverlessV2MaxCapacity: settings.maxCapacity,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      // PostgreSQL's own port, on purpose: the security group admits only the colors and the migration task, and
      // a non-default port would hide nothing from a peer that can reach it.
      port: Database.PORT,
      credentials: rds.Credentials.fromSecret(masterSecret),
      defaultDatabaseName: settings.databaseName,
      storageEncrypted: true,
      // Costs nothing, and lets a migration task or an operator log in with an IAM token instead of the password.
      iamAuthentication: true,
      deletionProtection: settings.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backup: { retention: Duration.days(7) },
      copyTagsToSnapshot: true,
      cloudwatchLogsExports: ['postgresql'],
    });
    this.cluster.node.addDependency(this.logGroup);
    if (!settings.deletionProtection) {
      acknowledge(
        this.cluster,
        'AwsSolutions-RDS10',
        'The user set database.deletionProtection to false (for a short-lived environment); removing the ' +
          'cluster still leaves a final snapshot (removal policy SNAPSHOT).',
      );
    }
    this.secret = this.cluster.secret!;
  }

  /**
   * Lets `peer` (its security groups) open connections to the database, on the PostgreSQL port only.
   * `description` names the peer in the rule, e.g. "blue tasks to the shared database".
   */
  allowFrom(peer: ec2.IConnectable, description: string): void {
    this.cluster.connections.allowFrom(peer, ec2.Port.tcp(this.port), description);
  }

  /**
   * PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD, read from the secret's JSON when a task starts, for the
   * `secrets` of any ECS container definition (a color's app, a one-off migration task). Adding them to a
   * container lets its task's execution role read the secret.
   */
  containerSecrets(): Record<string, ecs.Secret> {
    return Object.fromEntries(
      Object.entries(PG_VARIABLES).map(([variable, field]) => [
        variable,
        ecs.Secret.fromSecretsManager(this.secret, field),
      ]),
    );
  }

  /**
   * Shell lines (bash, for user data under `set -euo pipefail`) that read the secret when an instance boots and
   * write the PG* variables to `envFile` (mode 0600, owned by root), for `docker run --env-file`: the password
   * never appears on a command line (`ps`) or in the launch template. The AWS CLI reads the secret, the system
   * python3 of Amazon Linux 2023 takes the fields out of its JSON (jq is not installed by default). A missing
   * field stops the script. The instance role needs read access to `secret`.
   */
  userDataCommands(envFile: string): string[] {
    const region = Stack.of(this).region;
    const pairs = Object.entries(PG_VARIABLES)
      .map(([variable, field]) => `("${variable}", "${field}")`)
      .join(', ');
    const toEnvFile =
      'import json, sys; s = json.load(sys.stdin); ' +
      `sys.stdout.write("".join("%s=%s\\n" % (k, s[f]) for k, f in (${pairs})))`;
    return [
      `install -d -m 0700 ${shellQuote(posix.dirname(envFile))}`,
      `(umask 077 && aws secretsmanager get-secret-value --region ${region} --secret-id ${this.secret.secretArn} ` +
        `--query SecretString --output text | python3 -c ${shellQuote(toEnvFile)} > ${shellQuote(envFile)})`,
    ];
  }
}
