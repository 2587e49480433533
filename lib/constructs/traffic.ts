import { CfnCondition, Duration, Fn, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import type { ColorEnvironment } from './color-environment';

/** The header the test listener requires; its value is the secret in `testTrafficSecret`. */
export const TEST_TRAFFIC_HEADER = 'X-Bluegreen-Test-Token';

export interface PublicLoadBalancerProps {
  readonly appName: string;
  readonly vpc: ec2.IVpc;
}

/** The internet-facing Application Load Balancer, its security group and its access logs. */
export class PublicLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${props.appName} load balancer`,
      // Egress is opened only towards the two colors' tasks (ColorEnvironment adds those rules).
      allowAllOutbound: false,
    });
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Access logs are an audit trail: they outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.accessLogs,
      'AwsSolutions-S1',
      'This bucket only receives the load balancer access logs; logging access to it into another bucket ' +
        'would add a bucket that logs the log bucket.',
    );
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogs, 'alb');
  }
}

export interface TrafficRoutingProps {
  readonly appName: string;
  readonly loadBalancer: PublicLoadBalancer;
  readonly blue: ColorEnvironment;
  readonly green: ColorEnvironment;
  /**
   * True when the release record says blue is live. The test listener rule's weights are rendered from it (the
   * idle color), so that whenever CloudFormation touches the rule it writes what the record says.
   */
  readonly blueIsLive: CfnCondition;
  /**
   * The record's production weights, "<blue>,<green>" (a deploy-time SSM parameter). The production listener's
   * weights are rendered from it, so a deploy during a gradual shift writes the split the workflow set, never a
   * stale template value.
   */
  readonly productionWeights: string;
  /**
   * Group stickiness while traffic is split (release.analysis.stickySeconds): rendered on when the record's weights
   * are a split, off otherwise, so a deploy during a shift keeps sticky users where they are. @default - none
   */
  readonly stickySeconds?: number;
  readonly testPort: number;
  /** Source ranges that may reach the test listener at all (NAT gateway addresses, pipeline runners). */
  readonly testAllowedPeers: readonly ec2.IPeer[];
  /** @default - plain HTTP on port 80 */
  readonly certificate?: acm.ICertificate;
  /** The DNS name the certificate covers, pointed at the load balancer. @default - the load balancer's DNS name */
  readonly domainName?: string;
}

/**
 * The listeners. Production forwards to the live color; the test listener forwards to the idle color, and
 * only for requests that carry the secret test-traffic header, from allowed source ranges.
 */
export class TrafficRouting extends Construct {
  readonly productionListener: elbv2.ApplicationListener;
  readonly testListener: elbv2.ApplicationListener;
  readonly testRule: elbv2.ApplicationListenerRule;
  /** Header value that opens the test listener; the validation step reads it. */
  readonly testTrafficSecret: secretsmanager.Secret;
  readonly productionUrl: string;
  readonly testUrl: string;

  constructor(scope: Construct, id: string, props: TrafficRoutingProps) {
    super(scope, id);
    const { loadBalancer: lb, blue, green, blueIsLive, certificate } = props;
    const https = certificate !== undefined;
    const protocol = https ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP;
    const productionPort = https ? 443 : 80;
    const ifBlueLive = (whenBlue: number, whenGreen: number) =>
      Token.asNumber(Fn.conditionIf(blueIsLive.logicalId, whenBlue, whenGreen));

    // Weighted forward actions: production as the record's weights say (a split during a gradual shift), the
    // test rule to the idle color. CloudFormation passes the selected values as strings ("900"); ALB's integer
    // Weight accepts them, as it accepts a Ref to a Number parameter.
    const recorded = Fn.split(',', props.productionWeights, 2);
    const toLive = elbv2.ListenerAction.weightedForward(
      [
        { targetGroup: blue.targetGroup, weight: Token.asNumber(recorded[0]) },
        { targetGroup: green.targetGroup, weight: Token.asNumber(recorded[1]) },
      ],
      props.stickySeconds ? { stickinessDuration: Duration.seconds(props.stickySeconds) } : {},
    );
    const toIdle = elbv2.ListenerAction.weightedForward([
      { targetGroup: blue.targetGroup, weight: ifBlueLive(0, 100) },
      { targetGroup: green.targetGroup, weight: ifBlueLive(100, 0) },
    ]);

    this.productionListener = lb.loadBalancer.addListener('Production', {
      port: productionPort,
      protocol,
      open: false,
      certificates: certificate ? [certificate] : undefined,
      sslPolicy: https ? elbv2.SslPolicy.TLS13_12_PQ : undefined,
      defaultAction: toLive,
    });
    if (props.stickySeconds) {
      // As the workflow does: stickiness only while the record's weights split traffic (all on one color is
      // "100,0" or "0,100", as every switch and rollback writes it).
      const split = new CfnCondition(this, 'ProductionIsSplit', {
        expression: Fn.conditionNot(
          Fn.conditionOr(
            Fn.conditionEquals(props.productionWeights, '100,0'),
            Fn.conditionEquals(props.productionWeights, '0,100'),
          ),
        ),
      });
      (this.productionListener.node.defaultChild as elbv2.CfnListener).addPropertyOverride(
        'DefaultActions.0.ForwardConfig.TargetGroupStickinessConfig.Enabled',
        Fn.conditionIf(split.logicalId, true, false),
      );
    }
    lb.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(productionPort), 'production traffic');
    if (https) {
      lb.loadBalancer.addListener('HttpRedirect', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      lb.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP, redirected to HTTPS');
    }
    acknowledge(
      lb.securityGroup,
      'AwsSolutions-EC23',
      'The production listener serves the public web application, so its port is open to the internet; the ' +
        'test listener port is not (only NAT gateway and configured addresses).',
    );

    this.testTrafficSecret = new secretsmanager.Secret(this, 'TestTrafficToken', {
      secretName: `bluegreen/${props.appName}/test-traffic-token`,
      description: `bluegreen ${props.appName}: value of the ${TEST_TRAFFIC_HEADER} header that opens the test listener`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(
      this.testTrafficSecret,
      'AwsSolutions-SMG4',
      'The secret and the listener rule must change together: the rule holds the value CloudFormation resolved ' +
        'when it last wrote the rule, so a plain rotation would lock the validation step out. Rotation is the ' +
        'put-secret-value + modify-rule procedure in the README until the release workflow automates it.',
    );

    this.testListener = lb.loadBalancer.addListener('Test', {
      port: props.testPort,
      protocol,
      open: false,
      certificates: certificate ? [certificate] : undefined,
      sslPolicy: https ? elbv2.SslPolicy.TLS13_12_PQ : undefined,
      defaultAction: elbv2.ListenerAction.fixedResponse(403, {
        contentType: 'text/plain',
        messageBody: `bluegreen test listener: requests need the ${TEST_TRAFFIC_HEADER} header`,
      }),
    });
    this.testRule = new elbv2.ApplicationListenerRule(this, 'IdleColorRule', {
      listener: this.testListener,
      priority: 1,
      conditions: [
        elbv2.ListenerCondition.httpHeader(TEST_TRAFFIC_HEADER, [
          this.testTrafficSecret.secretValue.unsafeUnwrap(),
        ]),
      ],
      action: toIdle,
    });
    for (const peer of props.testAllowedPeers) {
      lb.securityGroup.addIngressRule(peer, ec2.Port.tcp(props.testPort), 'test listener (idle color)');
    }

    const scheme = https ? 'https' : 'http';
    const host = props.domainName ?? lb.loadBalancer.loadBalancerDnsName;
    this.productionUrl = `${scheme}://${host}`;
    this.testUrl = `${scheme}://${host}:${props.testPort}`;
  }
}
