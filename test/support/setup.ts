// Runs before every test file. The steps log structured JSON (Powertools); keep test output readable.
// (The Promise.withResolvers polyfill aws-local-stepfunctions needs on Node 20 lives in rehearsal/workflow-runner.ts.)
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The AWS SDK's Node version notice (on Node 20) is turned off as the CLI turns it off; test/cli/bin.test.ts runs
// the built CLI without this variable and checks that the CLI keeps it out of its output by itself.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
