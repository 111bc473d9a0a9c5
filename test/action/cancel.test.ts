// A cancelled job (the App cancels a superseded job's run) or one past its timeout-minutes: the
// runner signals the Action's node process (SIGINT, then SIGTERM 7.5 s later, then kills the
// process tree 2.5 s after that). The harness runs detached, in a session of its own, with the
// runner's RUNNER_* names scrubbed from its environment (RUNNER_TRACKING_ID, the runner's tag for
// its orphan cleanup, among them): the Action died on the signal and the harness, no longer its
// child, trained on to its own deadline, holding the GPU while the next job started. The Action
// now kills the harness's tree on either signal before it exits, and the harness keeps the tag.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from './helpers/alive.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cancel-'));
const pids: number[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The Action's harness step in a process of its own, on a stand-in harness that trains forever
 * (and a child of it, as the candidate's); the given signal once both are up. */
async function cancelled(sig: 'SIGINT' | 'SIGTERM') {
  const work = join(dir, sig);
  mkdirSync(join(work, 'trainer'), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(work, 'node_modules'));
  writeFileSync(
    join(work, 'trainer', 'cli.ts'),
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
writeFileSync('tracking', process.env.RUNNER_TRACKING_ID ?? '(none)');
writeFileSync('pids', JSON.stringify([process.pid, c.pid]));
setInterval(() => {}, 1000);
`,
  );
  const action = join(work, 'action.mts');
  writeFileSync(
    action,
    `import { runHarnessUntilCancelled } from ${JSON.stringify(join(repo, 'action', 'src', 'cancel.ts'))};
await runHarnessUntilCancelled({ cwd: ${JSON.stringify(work)}, budget: 1, evalSeed: 1, seed: 1, outDir: ${JSON.stringify(join(work, 'out'))}, isolation: 'none',
  image: '', data: 'brown', cacheDir: ${JSON.stringify(join(work, 'cache'))}, evalBytes: null, memoryMb: null, backstopSeconds: 60 }).catch((e) => console.log(e.message));
`,
  );
  // node itself, as the runner starts a JavaScript action's entry point
  const env = { ...process.env, RUNNER_TRACKING_ID: `github_${sig}-0c1d` };
  const child = spawn(process.execPath, ['--import', 'tsx', action], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  const pidFile = join(work, 'pids');
  for (let i = 0; i < 300 && !existsSync(pidFile); i++) await sleep(50);
  if (!existsSync(pidFile)) throw new Error(`the stand-in harness did not start: ${out}`);
  const harness = JSON.parse(readFileSync(pidFile, 'utf8')) as number[];
  pids.push(...harness);
  expect(harness.every(alive)).toBe(true);
  const sent = Date.now();
  process.kill(child.pid as number, sig);
  await exited;
  // gone when the Action exits, well within the runner's grace period (7.5 s, then 2.5 s)
  return { out, harness: harness.filter(alive), took: Date.now() - sent, tracking: readFileSync(join(work, 'tracking'), 'utf8') };
}

describe('a cancelled job', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`kills the harness and its children when the runner sends ${sig}, before the Action exits`, async () => {
      const { out, harness, took, tracking } = await cancelled(sig);
      expect(harness).toEqual([]);
      expect(out).toContain(`The job was cancelled (${sig})`);
      expect(took).toBeLessThan(5000);
      // and should the Action itself be killed, the runner's orphan cleanup (it kills every
      // process whose environment holds the job's RUNNER_TRACKING_ID once the step ends) finds it
      expect(tracking).toBe(`github_${sig}-0c1d`);
    }, 30_000);
  }
});
