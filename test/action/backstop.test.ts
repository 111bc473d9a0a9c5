// The Action's backstop kills a wedged harness. It sent SIGTERM to the tsx process only: tsx
// passed it to the supervisor, which died, and the supervisor's children (candidate code busy in
// a forward pass, deaf to its closed pipe) lived on past the result, holding the GPU and free to
// write after it. The backstop kills the harness's whole process tree, and its result comes
// only once every process of it is gone.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHarness } from '../../action/src/harness.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'backstop-'));
let orphan = 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^[ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '');
  } catch {
    return false;
  }
};

afterAll(() => {
  if (orphan && alive(orphan)) process.kill(orphan, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe("the Action's backstop", () => {
  it('kills the wedged harness with every process it started', async () => {
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    mkdirSync(join(dir, 'trainer'));
    // a wedged supervisor whose child (the candidate's, as child.ts starts it: pipes, no group of
    // its own) ignores its closed channel and keeps running
    writeFileSync(
      join(dir, 'trainer', 'cli.ts'),
      `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const c = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: ['pipe', 'pipe', 'pipe'] });
writeFileSync('child.pid', String(c.pid));
console.error('wedged');
setInterval(() => {}, 1000);
`,
    );
    const run = await runHarness({
      cwd: dir, budget: 1, evalSeed: 1, seed: 1, outDir: join(dir, 'out'), isolation: 'none', image: '', data: 'brown',
      cacheDir: join(dir, 'cache'), evalBytes: null, memoryMb: null, backstopSeconds: 3,
    });
    orphan = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    expect(run.stderrTail).toContain('wedged');
    expect(run.exitCode).not.toBe(0); // killed: no result
    expect(alive(orphan)).toBe(false);
  }, 30_000);
});
