/**
 * The rehearsal's progress lines for real executions of the synthesized workflow (over the in-memory AWS): loops
 * are told once with their rounds, a caught failure once, with no ✓ for the same state.
 */
import { progressPrinter, workflowShape } from '../../rehearsal/progress';
import type { ExecutionResult } from '../../rehearsal/workflow-runner';
import { FakeWorld, REPO, type Behaviour } from '../support/fake-world';
import { compiledWorkflow, runRelease } from '../support/run-workflow';

async function printed(behaviour: Behaviour): Promise<{ lines: string[]; result: ExecutionResult }> {
  const world = new FakeWorld(`${REPO}:v1`);
  world.behaviours.set(`${REPO}:v2`, behaviour);
  const result = await runRelease(world, { image: `${REPO}:v2` });
  const lines: string[] = [];
  const print = progressPrinter((line) => lines.push(line), workflowShape(compiledWorkflow().definition));
  result.events.forEach(print);
  print.done();
  // Durations vary; the words and marks do not.
  return { lines: lines.map((l) => l.replace(/\d+ ms/, 'N ms')), result };
}

test('a failed validation: ✗ once, caught, and no ✓ for it; the loop before it is one ↻ and one ✓', async () => {
  const { lines, result } = await printed('fails-validation');
  expect(result.error).toBe('ValidationFailed');
  expect(lines).toEqual([
    '  ▶ Start',
    '  ✓ Start (N ms)',
    '  ▶ Prepare',
    '  ✓ Prepare (N ms)',
    '  ▶ Deploy to idle color',
    '  ✓ Deploy to idle color (N ms)',
    '  ↻ Wait for idle color',
    expect.stringMatching(/^ {2}✓ Wait for idle color \(\d+ rounds?, N ms\)$/),
    '  ▶ Validate idle color',
    '  ✗ Validate idle color (N ms) failed; caught, the workflow handles it',
    '  ▶ Abort',
    '  ✓ Abort (N ms)',
    '  ▶ Aborted',
  ]);
});

test('a good release: every state left with ✓, the bake loop told once with its rounds', async () => {
  const { lines, result } = await printed('good');
  expect(result.status).toBe('SUCCEEDED');
  expect(
    lines.filter((l) => l.includes('▶')).every((l) => !/Wait for|Bake|Check|ready\?|done\?/.test(l)),
  ).toBe(true);
  expect(lines).toContain('  ↻ Bake: wait');
  expect(lines.some((l) => /^ {2}✓ Bake: wait \(\d+ rounds?, N ms\)$/.test(l))).toBe(true);
  const entered = lines.filter((l) => l.startsWith('  ▶ ')).map((l) => l.slice(4));
  const left = lines.filter((l) => l.startsWith('  ✓ ')).map((l) => l.slice(4).replace(/ \(.*\)$/, ''));
  expect(left).toEqual(expect.arrayContaining(entered.filter((s) => s !== 'Released')));
});
