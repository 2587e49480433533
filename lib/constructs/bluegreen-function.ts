import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { environmentSizes, LAMBDA_ENVIRONMENT_LIMIT } from './environment-size';

export interface BluegreenFunctionProps {
  /** The handler file under lambda/, without extension (e.g. `live-color-widget`). */
  readonly entry: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  /** What the user can shorten when the environment passes Lambda's 4 KB (said in the synth error). */
  readonly environmentAdvice?: string;
  readonly logRetentionDays: number;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** @default - not in a VPC */
  readonly vpc?: ec2.IVpc;
}

/**
 * The one base for bluegreen's Lambda functions: newest Node.js runtime, ARM64, bundled by the local esbuild
 * (no Docker), source maps, active tracing, and an explicit log group with the configured retention.
 */
export class BluegreenFunction extends Construct {
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: BluegreenFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to this function's log group only.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(role);
    if (props.vpc) {
      // A function in a VPC needs to create and delete its network interfaces.
      role.addManagedPolicy(
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'),
      );
    }
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      ...(props.vpc
        ? {
            vpc: props.vpc,
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            allowAllOutbound: true,
          }
        : {}),
      entry: join(__dirname, '..', '..', 'lambda', `${props.entry}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        sourceMap: true,
        minify: true,
        target: 'node24',
        // The runtime ships the AWS SDK v3: keep it out of the bundle.
        externalModules: ['@aws-sdk/*'],
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
    // Lambda refuses an environment over 4 KB at deploy time (every function of the stack fails to create):
    // refused here instead, at synth, with the longest each value can be once deployed.
    this.node.addValidation({
      validate: () => {
        const stack = Stack.of(this);
        const cfn = this.function.node.defaultChild as lambda.CfnFunction;
        const { variables } = stack.resolve(cfn.environment) as { variables: Record<string, string> };
        const sizes = environmentSizes(variables, stack);
        const total = Object.values(sizes).reduce((sum, n) => sum + n, 0);
        if (total <= LAMBDA_ENVIRONMENT_LIMIT) {
          return [];
        }
        const parts = Object.entries(sizes)
          .map(([name, n]) => `${name} ${n}`)
          .join(', ');
        return [
          `${props.description}: its environment variables could reach ${total} bytes once deployed (${parts}), ` +
            `over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT} bytes: the function would fail to deploy. ` +
            (props.environmentAdvice ? `To fit, ${props.environmentAdvice}.` : ''),
        ];
      },
    });
  }
}
