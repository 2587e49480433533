/**
 * Prints the figures we track for the CDK app: `cdk synth` wall time (cold processes, median of N), resources
 * and template size per stack, and the size of each bundled Lambda. Figures, not pass/fail: `npm run bench`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const root = join(__dirname, '..');
const cdk = join(root, 'node_modules', '.bin', 'cdk');
const times: number[] = [];
let outdir = '';
for (let i = 0; i < runs; i++) {
  outdir = mkdtempSync(join(tmpdir(), 'bluegreen-bench-'));
  const start = process.hrtime.bigint();
  const run = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '--output', outdir], {
    cwd: root,
    encoding: 'utf8',
  });
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
}
times.sort((a, b) => a - b);
const figures: {
  synthMedianS: number;
  stacks: Record<string, { resources: number; kib: number }>;
  bundles: Record<string, { kib: number; importMs: number }>;
  cli?: { kib: number; helpMs: number };
  migrations?: {
    synthS: number;
    resources: number;
    bundles: Record<string, { kib: number; importMs: number }>;
  };
} = { synthMedianS: times[Math.floor(runs / 2)], stacks: {}, bundles: {} };
console.log(
  `cdk synth wall time: median ${times[Math.floor(runs / 2)].toFixed(2)} s over ${runs} runs (min ${times[0].toFixed(2)}, max ${times[runs - 1].toFixed(2)})`,
);

const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
  artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
};
for (const [name, artifact] of Object.entries(manifest.artifacts)) {
  if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) {
    continue;
  }
  const file = join(outdir, artifact.properties.templateFile);
  const template = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, { Type: string }> };
  const byType = new Map<string, number>();
  for (const r of Object.values(template.Resources)) {
    byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1);
  }
  console.log(
    `stack ${name}: ${Object.keys(template.Resources).length} resources, template ${(statSync(file).size / 1024).toFixed(1)} KiB`,
  );
  figures.stacks[name] = {
    resources: Object.keys(template.Resources).length,
    kib: statSync(file).size / 1024,
  };
  for (const [type, count] of [...byType].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${String(count).padStart(3)} ${type}`);
  }
}
// Lambda bundles: size, and cold import time (a fresh node process requiring the bundle; the AWS SDK, which the
// Lambda runtime provides, resolves from this project's node_modules). Median of IMPORT_RUNS.
const importRuns = Number(process.env.IMPORT_RUNS ?? 5);
const service = JSON.parse(readFileSync(join(outdir, `${stackOf(manifest)}.template.json`), 'utf8')) as {
  Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
};
console.log(
  `lambda bundles (cold import: median of ${importRuns} fresh processes, node ${process.version}):`,
);
figures.bundles = measureBundles(outdir, service);

// The CLI (the package bin, dist/bluegreen.cjs built by npm ci): size, and the wall time of `bluegreen --help`
// in a fresh process (what every command pays before its first AWS call). Median of IMPORT_RUNS.
const bin = join(root, 'dist', 'bluegreen.cjs');
spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: root, stdio: 'ignore' });
const helpMs: number[] = [];
for (let i = 0; i < importRuns; i++) {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, [bin, '--help'], { cwd: root, stdio: 'ignore' });
  helpMs.push(Number(process.hrtime.bigint() - t) / 1e6);
}
helpMs.sort((a, b) => a - b);
const cli = { kib: statSync(bin).size / 1024, helpMs: helpMs[Math.floor(importRuns / 2)] };
figures.cli = cli;
console.log(
  `cli: dist/bluegreen.cjs ${cli.kib.toFixed(1)} KiB; \`bluegreen --help\` ${cli.helpMs.toFixed(0)} ms wall (median of ${importRuns})`,
);

// The same app with database migrations and the shared database (the repository's config plus `migrations` and
// `database`): one synth, the service stack's resources, and the bundles only that variant has.
{
  const config = JSON.parse(readFileSync(join(root, 'bluegreen.config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const file = join(mkdtempSync(join(tmpdir(), 'bluegreen-bench-config-')), 'bluegreen.config.json');
  writeFileSync(
    file,
    JSON.stringify({ ...config, migrations: { command: ['node', 'migrate.js'] }, database: {} }),
  );
  const out = mkdtempSync(join(tmpdir(), 'bluegreen-bench-'));
  const start = process.hrtime.bigint();
  const run = spawnSync(cdk, ['synth', '--quiet', '--no-notices', '--output', out, '-c', `config=${file}`], {
    cwd: root,
    encoding: 'utf8',
  });
  const synthS = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as typeof manifest;
  const template = JSON.parse(
    readFileSync(join(out, `${stackOf(m)}.template.json`), 'utf8'),
  ) as typeof service;
  const resources = Object.keys(template.Resources).length;
  console.log(
    `with migrations and database: cdk synth ${synthS.toFixed(2)} s (one run); stack ${stackOf(m)}: ${resources} resources; its own bundles:`,
  );
  const only = Object.fromEntries(
    Object.entries(measureBundles(out, template)).filter(([name]) => !(name in figures.bundles)),
  );
  figures.migrations = { synthS, resources, bundles: only };
}

writeFileSync('bench-results.synth.json', `${JSON.stringify(figures, null, 2)}\n`);

/** Each Lambda bundle of a synthesized service stack: size and cold import time; printed as measured. */
function measureBundles(
  dir: string,
  template: { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> },
): Record<string, { kib: number; importMs: number }> {
  const bundles: Record<string, { kib: number; importMs: number }> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    const assetPath = r.Metadata?.['aws:asset:path'];
    if (r.Type !== 'AWS::Lambda::Function' || !assetPath) {
      continue;
    }
    const name = id.replace(/^ReleaseWorkflowSteps/, '').replace(/Function[0-9A-F]{8}$/, '');
    if (name in figures.bundles) {
      continue; // measured with the default configuration
    }
    const bundle = join(dir, assetPath, 'index.js');
    const size = statSync(bundle).size;
    const ms: number[] = [];
    for (let i = 0; i < importRuns; i++) {
      const run = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
        ],
        {
          env: { ...process.env, NODE_PATH: join(root, 'node_modules'), POWERTOOLS_LOG_LEVEL: 'SILENT' },
          encoding: 'utf8',
        },
      );
      ms.push(Number(run.stdout.trim()));
    }
    ms.sort((a, b) => a - b);
    bundles[name] = { kib: size / 1024, importMs: ms[Math.floor(importRuns / 2)] };
    console.log(
      `  ${name.padEnd(22)} ${(size / 1024).toFixed(1).padStart(7)} KiB  import ${ms[Math.floor(importRuns / 2)].toFixed(1).padStart(6)} ms`,
    );
  }
  return bundles;
}

function stackOf(m: typeof manifest): string {
  return Object.entries(m.artifacts).find(
    ([name, a]) => a.type === 'aws:cloudformation:stack' && !name.endsWith('-record'),
  )![0];
}
