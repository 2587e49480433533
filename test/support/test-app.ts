/**
 * A CDK App for tests, validated as `cdk synth` validates it: cdk.json turns CDK's built-in CloudFormation Validate
 * findings into errors, and a finding fails the synth here too. The validation runs in the worker's engines
 * (test/support/cloudformation-validate-engines.ts, kept across test files) rather than in a new engine per test
 * file; outside the tests' environment, the App validates as usual.
 */
import {
  App,
  CloudFormationValidatePlugin,
  Validations,
  type AppProps,
  type IPolicyValidationContext,
  type IPolicyValidationPlugin,
  type PolicyValidationPluginReport,
} from 'aws-cdk-lib';
import { VALIDATE_STACKS } from './cloudformation-validate-engines';

type ValidateStacks = (stacksJson: string) => string;

export function testApp(props: AppProps = {}): App {
  const validateStacks = (globalThis as Record<string, unknown>)[VALIDATE_STACKS] as
    ValidateStacks | undefined;
  if (!validateStacks) {
    return new App(props);
  }
  const app = new App({ ...props, builtinCloudFormationValidation: false });
  Validations.of(app).addPlugins(new WorkerCloudFormationValidate(validateStacks));
  return app;
}

/** The built-in plugin under its own name, its report from the worker's engine. */
class WorkerCloudFormationValidate implements IPolicyValidationPlugin {
  readonly name = CloudFormationValidatePlugin.PLUGIN_NAME;
  version?: string;

  constructor(private readonly validateStacks: ValidateStacks) {}

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const { report, version } = JSON.parse(this.validateStacks(JSON.stringify(context.stackTemplates))) as {
      report: PolicyValidationPluginReport;
      version?: string;
    };
    this.version = version;
    return report;
  }
}
