#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addBluegreenStacks } from '../lib/app';
import { cliEnvironment, ConfigError, DEFAULT_CONFIG_FILE, loadConfig } from '../lib/config';

const app = new App();
const file =
  (app.node.tryGetContext('config') as string | undefined) ??
  process.env.BLUEGREEN_CONFIG ??
  DEFAULT_CONFIG_FILE;
try {
  addBluegreenStacks(app, loadConfig(file, cliEnvironment()));
} catch (e) {
  if (e instanceof ConfigError) {
    // One readable report of every problem, no stack trace: the user fixes the file, not the code.
    console.error(`\n${e.message}\n\nSee "Configuration" in README.md for every field and its default.\n`);
    process.exit(1);
  }
  throw e;
}
