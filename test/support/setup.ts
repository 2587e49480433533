// Runs before every test file. The steps log structured JSON (Powertools); keep test output readable.
// (The Promise.withResolvers polyfill aws-local-stepfunctions needs on Node 20 lives in rehearsal/workflow-runner.ts.)
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
