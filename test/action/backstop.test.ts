// The Action's backstop kills a wedged harness. It sent SIGTERM to the tsx process only: tsx
// passed it to the supervisor, which died, and the supervisor's children (candidate code busy in
// a forward pass, deaf to its closed pipe) lived on past the result, holding the GPU and free to
// write after it. The backstop kills the harness's whole process tree, and its result comes
// only once every process of it is gone.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHarness } from '../../action/src/harness.js';
import { alive } from './helpers/alive.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'backstop-'));
const FAKE_DOCKER = join(repo, 'test', 'action', 'fake-docker');
const dockerState = join(dir, 'docker-state');
const docker = (...args: string[]) => execFileSync(join(FAKE_DOCKER, 'docker'), args, { encoding: 'utf8', env: { ...process.env, FAKE_DOCKER_STATE: dockerState } });
// the stand-in engine (test/action/fake-docker) needs root and mount, network and pid namespaces
const namespaces = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', '--net', '--pid', '--fork', 'true']).status === 0;
let orphan = 0;

afterAll(() => {
  if (orphan && alive(orphan)) process.kill(orphan, 'SIGKILL');
  if (namespaces) for (const id of docker('ps', '-q').split('\n').filter(Boolean)) docker('rm', '-f', id);
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

  // With --isolation docker the candidate's code runs in a container, which the engine runs: no
  // process of the harness's tree or group. Killing them killed only the docker client, and the
  // container (deaf to its closed channel) trained on past the result, holding the GPU.
  (namespaces ? it : it.skip)("and every container the harness started, once they are gone", async () => {
    const work = join(dir, 'docker-run');
    mkdirSync(join(work, 'trainer'), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(work, 'node_modules'));
    // a wedged supervisor that started its child as trainer/isolation.ts builds it
    writeFileSync(
      join(work, 'trainer', 'cli.ts'),
      `import { spawn } from 'node:child_process';
import { dockerRunArgs } from ${JSON.stringify(join(repo, 'trainer', 'isolation.ts'))};
const argv = dockerRunArgs({ phase: 'train', image: 'ghcr.io/acme/autoresearch-trainer:test', gpu: false, memoryMb: 256, repoDir: ${JSON.stringify(repo)},
  interactive: true, dataMounts: [], env: {}, name: 'autoresearch-train-backstop',
  command: ['/bin/sh', '-c', 'trap "" TERM; echo up; while :; do sleep 1; done'] });
const c = spawn('docker', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
c.stdout.once('data', () => console.error('wedged'));
setInterval(() => {}, 1000);
`,
    );
    const saved = { PATH: process.env.PATH, FAKE_DOCKER_STATE: process.env.FAKE_DOCKER_STATE };
    process.env.PATH = `${FAKE_DOCKER}:${saved.PATH}`;
    process.env.FAKE_DOCKER_STATE = dockerState;
    try {
      const run = await runHarness({
        cwd: work, budget: 1, evalSeed: 1, seed: 1, outDir: join(work, 'out'), isolation: 'docker', image: 'ghcr.io/acme/autoresearch-trainer:test', data: 'brown',
        cacheDir: join(work, 'cache'), evalBytes: null, memoryMb: null, backstopSeconds: 6,
      });
      expect(run.stderrTail).toContain('wedged'); // the container was up when the backstop fired
      expect(run.exitCode).not.toBe(0);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.FAKE_DOCKER_STATE === undefined) delete process.env.FAKE_DOCKER_STATE;
      else process.env.FAKE_DOCKER_STATE = saved.FAKE_DOCKER_STATE;
    }
    expect(docker('ps', '-q')).toBe('');
  }, 60_000);
});
