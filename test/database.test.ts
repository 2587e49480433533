/**
 * The optional shared PostgreSQL database (config.database): one Aurora Serverless v2 cluster for both colors,
 * reachable from their compute only, its credentials handed to the containers as the standard PG* variables.
 * cdk-nag runs in every synth (test/support/synth.ts); test/nag.test.ts has the database variants too.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { parseConfig } from '../lib/config';
import { Database, PG_VARIABLES } from '../lib/constructs/database';
import { pgSettings } from '../sample-app/src/server';
import { BASE_CONFIG, merge, resourcesOfType, synth, type CfnTemplate } from './support/synth';
import { tempDir } from './support/temp';
import { testApp } from './support/test-app';

const PG_NAMES = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD'];

/** Logical id of a construct's CloudFormation resource. */
const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;

/** Every IAM statement of a policy resource that grants a Secrets Manager read. */
function secretReads(t: CfnTemplate, policyId: RegExp): { Resource: unknown }[] {
  return Object.entries(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter(([id]) => policyId.test(id))
    .flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    )
    .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'));
}

/** The user data as CloudFormation would render it: sample values for the references. */
function renderedUserData(t: CfnTemplate, launchTemplateId: string): string {
  const data = resourcesOfType(t, 'AWS::EC2::LaunchTemplate')[launchTemplateId].LaunchTemplateData as {
    UserData: { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } };
  };
  return data.UserData['Fn::Base64']['Fn::Join'][1]
    .map((p) =>
      typeof p === 'string'
        ? p
        : JSON.stringify(p).includes('Image')
          ? '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:v1'
          : JSON.stringify(p).includes('DatabaseSecret')
            ? 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bluegreen/shop/database-AbCdEf'
            : 'sample-value',
    )
    .join('');
}

describe.each(['ecs', 'asg'] as const)('shared database on platform %s', (platform) => {
  const { service, serviceJson, stacks } = synth({
    platform,
    database: { minCapacity: 1, maxCapacity: 4 },
  });
  const stack = stacks.service;
  const database = stack.database!;
  const clusterId = logicalId(stack, database.cluster);
  const attachmentRef = { Ref: Match.stringLikeRegexp('^DatabaseSecretAttachment') };
  const computeSecurityGroup = (color: 'blue' | 'green') => {
    const c = stack.colors[color];
    const sg = c.ecs
      ? c.ecs.service.connections.securityGroups[0]
      : c.asg!.launchTemplate.connections.securityGroups[0];
    return logicalId(stack, sg);
  };

  test('one Aurora PostgreSQL Serverless v2 cluster with the configured capacity, encrypted and protected', () => {
    service.resourceCountIs('AWS::RDS::DBCluster', 1);
    service.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({
        Engine: 'aurora-postgresql',
        EngineVersion: Match.stringLikeRegexp('^1[7-9]\\.'),
        ServerlessV2ScalingConfiguration: { MinCapacity: 1, MaxCapacity: 4 },
        StorageEncrypted: true,
        DeletionProtection: true,
        DatabaseName: 'app',
        Port: 5432,
        EnableIAMDatabaseAuthentication: true,
        EnableCloudwatchLogsExports: ['postgresql'],
        BackupRetentionPeriod: 7,
      }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
    // The writer: a Serverless v2 instance, not reachable from the internet.
    service.resourceCountIs('AWS::RDS::DBInstance', 1);
    service.hasResourceProperties('AWS::RDS::DBInstance', {
      DBClusterIdentifier: { Ref: clusterId },
      DBInstanceClass: 'db.serverless',
      Engine: 'aurora-postgresql',
      PubliclyAccessible: false,
    });
    // In the private subnets.
    const privateSubnets = stack.vpc.privateSubnets.map((s) => ({ Ref: logicalId(stack, s) }));
    service.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: privateSubnets });
    // Its postgresql logs in a group with the app's retention, created before the cluster.
    service.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/cluster/shop-database/postgresql',
      RetentionInDays: 30,
    });
  });

  test('generated credentials in Secrets Manager, with the database name, attached to the cluster', () => {
    service.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'bluegreen/shop/database',
      GenerateSecretString: Match.objectLike({
        GenerateStringKey: 'password',
        SecretStringTemplate: JSON.stringify({ username: 'postgres', dbname: 'app' }),
      }),
    });
    service.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', {
      TargetId: { Ref: clusterId },
      TargetType: 'AWS::RDS::DBCluster',
    });
  });

  test('its security group admits PostgreSQL from the two colors only, and nothing else', () => {
    const dbSg = logicalId(stack, database.cluster.connections.securityGroups[0]);
    const sg = serviceJson.Resources[dbSg].Properties!;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(resourcesOfType(serviceJson, 'AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.GroupId) === JSON.stringify({ 'Fn::GetAtt': [dbSg, 'GroupId'] }),
    );
    expect(ingress).toHaveLength(2);
    for (const rule of ingress) {
      expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
    }
    expect(
      ingress
        .map((r) => r.SourceSecurityGroupId)
        .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    ).toEqual([
      { 'Fn::GetAtt': [computeSecurityGroup('blue'), 'GroupId'] },
      { 'Fn::GetAtt': [computeSecurityGroup('green'), 'GroupId'] },
    ]);
  });

  test('outputs: the secret ARN and the writer endpoint', () => {
    expect(serviceJson.Outputs?.DatabaseSecretArn).toEqual({
      Description: expect.stringContaining('PostgreSQL'),
      Value: attachmentRefValue(serviceJson),
    });
    expect(serviceJson.Outputs?.DatabaseEndpoint).toEqual({
      Description: expect.stringContaining('endpoint'),
      Value: {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [clusterId, 'Endpoint.Address'] },
            ':',
            { 'Fn::GetAtt': [clusterId, 'Endpoint.Port'] },
          ],
        ],
      },
    });
  });

  if (platform === 'ecs') {
    test("each color's container gets PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD from the secret", () => {
      for (const color of ['blue', 'green']) {
        service.hasResourceProperties('AWS::ECS::TaskDefinition', {
          Family: `shop-${color}`,
          ContainerDefinitions: [
            Match.objectLike({
              Secrets: Object.entries(PG_VARIABLES).map(([name, field]) => ({
                Name: name,
                ValueFrom: { 'Fn::Join': ['', [attachmentRef, `:${field}::`]] },
              })),
            }),
          ],
        });
      }
      const env = JSON.stringify(resourcesOfType(serviceJson, 'AWS::ECS::TaskDefinition'));
      // Never as plain environment values.
      expect(env).not.toMatch(/"Name":"PG[A-Z]+","Value"/);
    });

    test('the execution roles may read that secret and no other', () => {
      for (const color of ['Blue', 'Green']) {
        const reads = secretReads(
          serviceJson,
          new RegExp(`^${color}TaskDefinitionExecutionRoleDefaultPolicy`),
        );
        expect(reads).toEqual([
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: attachmentRefValue(serviceJson),
          },
        ]);
      }
    });
  } else {
    test('the user data reads the secret into a root-only env file for docker run --env-file, and is valid bash', () => {
      for (const color of ['blue', 'green'] as const) {
        const script = renderedUserData(
          serviceJson,
          logicalId(stack, stack.colors[color].asg!.launchTemplate),
        );
        expect(script).toContain(
          'aws secretsmanager get-secret-value --region eu-west-1 --secret-id arn:aws:secretsmanager:',
        );
        expect(script).toContain("> '/run/bluegreen/database.env')");
        expect(script).toMatch(
          /docker run [^\n]* --env-file \/run\/bluegreen\/database\.env [^\n]*"\$BLUEGREEN_IMAGE"$/m,
        );
        // No password on any command line: only the env file carries it.
        expect(script).not.toMatch(/-e PG/);
        const syntax = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
        expect(syntax).toMatchObject({ status: 0, stderr: '' });
      }
    });

    test('the instance roles may read that secret and no other', () => {
      for (const color of ['Blue', 'Green']) {
        const reads = secretReads(serviceJson, new RegExp(`^${color}InstanceRoleDefaultPolicy`));
        expect(reads).toEqual([
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: attachmentRefValue(serviceJson),
          },
        ]);
      }
    });
  }
});

/** The one reference to the attached secret (Ref of the SecretTargetAttachment). */
function attachmentRefValue(t: CfnTemplate): { Ref: string } {
  const ids = Object.keys(resourcesOfType(t, 'AWS::SecretsManager::SecretTargetAttachment'));
  expect(ids).toHaveLength(1);
  return { Ref: ids[0] };
}

describe('database settings', () => {
  test('deletion protection follows the configuration', () => {
    synth({ database: { deletionProtection: false } }).service.hasResourceProperties('AWS::RDS::DBCluster', {
      DeletionProtection: false,
      DatabaseName: 'app',
    });
  });

  test('the database name goes into the cluster and the secret', () => {
    const { service } = synth({ database: { databaseName: 'shop_data' } });
    service.hasResourceProperties('AWS::RDS::DBCluster', { DatabaseName: 'shop_data' });
    service.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ username: 'postgres', dbname: 'shop_data' }),
      }),
    });
  });

  test.each(['ecs', 'asg'] as const)(
    'no database section on %s: no cluster, no PG* variables, no outputs',
    (platform) => {
      const { service, serviceJson, stacks } = synth({ platform });
      expect(stacks.service.database).toBeUndefined();
      service.resourceCountIs('AWS::RDS::DBCluster', 0);
      service.resourceCountIs('AWS::RDS::DBInstance', 0);
      expect(serviceJson.Outputs?.DatabaseSecretArn).toBeUndefined();
      expect(serviceJson.Outputs?.DatabaseEndpoint).toBeUndefined();
      expect(JSON.stringify(serviceJson.Resources)).not.toMatch(/PGHOST|database\.env/);
    },
  );
});

describe('Database, for other consumers (a migration task)', () => {
  const config = parseConfig(merge(BASE_CONFIG, { database: {} }));
  // An outdir of its own, removed after the file (without one, the App makes a cdk.out folder in the temp folder).
  const app = testApp({ outdir: tempDir('bluegreen-db-') });
  const stack = new Stack(app, 'Test', { env: { region: 'eu-west-1', account: '123456789012' } });
  const vpc = new ec2.Vpc(stack, 'Vpc');
  const database = new Database(stack, 'Database', { config, vpc });

  test('containerSecrets() gives any task definition the five PG* secrets and lets its execution role read them', () => {
    const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Migrations');
    taskDefinition.addContainer('migrate', {
      image: ecs.ContainerImage.fromRegistry('example/migrate'),
      secrets: database.containerSecrets(),
    });
    const securityGroup = new ec2.SecurityGroup(stack, 'MigrationsSecurityGroup', { vpc });
    database.allowFrom(securityGroup, 'migrations to the shared database');

    expect(Object.keys(database.containerSecrets())).toEqual(PG_NAMES);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Secrets: PG_NAMES.map((Name) => Match.objectLike({ Name })) }),
      ],
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: { Ref: Match.stringLikeRegexp('^DatabaseSecretAttachment') },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^MigrationsExecutionRole') }],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'migrations to the shared database',
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^MigrationsSecurityGroup'), 'GroupId'],
      },
    });
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  (python ? test : test.skip)(
    'userDataCommands() writes the PG* variables from the secret JSON to a 0600 file (run with a stand-in aws)',
    () => {
      const dir = tempDir('bluegreen-db-');
      // A stand-in AWS CLI that prints what get-secret-value --query SecretString prints for an attached secret.
      writeFileSync(
        join(dir, 'aws'),
        '#!/bin/sh\necho \'{"password":"p4ss,w.rd=^_-","dbname":"app","engine":"postgres","port":5432,' +
          '"dbClusterIdentifier":"shop-database","host":"shop-database.cluster-x.eu-west-1.rds.amazonaws.com",' +
          '"username":"postgres"}\'\n',
      );
      chmodSync(join(dir, 'aws'), 0o755);
      const envFile = join(dir, 'run', 'database.env');
      const lines = database
        .userDataCommands(envFile)
        .map((line) => stack.resolve(line) as unknown)
        .map((line) => (typeof line === 'string' ? line : renderJoin(line)));
      const run = spawnSync('bash', ['-c', ['set -euo pipefail', ...lines].join('\n')], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      });
      expect(run).toMatchObject({ status: 0, stderr: '' });
      expect(readFileSync(envFile, 'utf8')).toBe(
        [
          'PGHOST=shop-database.cluster-x.eu-west-1.rds.amazonaws.com',
          'PGPORT=5432',
          'PGDATABASE=app',
          'PGUSER=postgres',
          'PGPASSWORD=p4ss,w.rd=^_-',
          '',
        ].join('\n'),
      );
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    },
  );

  test('a missing field stops the user data instead of starting the app without a database', () => {
    const dir = tempDir('bluegreen-db-');
    writeFileSync(join(dir, 'aws'), '#!/bin/sh\necho \'{"host":"h","username":"u","password":"p"}\'\n');
    chmodSync(join(dir, 'aws'), 0o755);
    const lines = database
      .userDataCommands(join(dir, 'database.env'))
      .map((line) => stack.resolve(line) as unknown)
      .map((line) => (typeof line === 'string' ? line : renderJoin(line)));
    const run = spawnSync('bash', ['-c', ['set -euo pipefail', ...lines, 'echo started'].join('\n')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout).not.toContain('started');
  });
});

describe('the sample app', () => {
  test('connects with the PG* variables the database hands its container, DATABASE_URL or not', () => {
    expect(
      pgSettings({
        PGHOST: 'shop-database.cluster-x.eu-west-1.rds.amazonaws.com',
        PGPORT: '5432',
        PGDATABASE: 'app',
        PGUSER: 'postgres',
        PGPASSWORD: 'secret',
      }),
    ).toEqual({
      host: 'shop-database.cluster-x.eu-west-1.rds.amazonaws.com',
      port: 5432,
      database: 'app',
      user: 'postgres',
      password: 'secret',
    });
    // Unset ones are left to node-postgres's own defaults.
    expect(pgSettings({ PGHOST: 'localhost' })).toEqual({ host: 'localhost' });
  });
});

/** A resolved Fn::Join with sample values for its references. */
function renderJoin(value: unknown): string {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((p) => (typeof p === 'string' ? p : 'arn:aws:secretsmanager:eu-west-1:1:secret:x'))
    .join(join[0]);
}
