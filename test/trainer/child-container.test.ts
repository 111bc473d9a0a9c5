// A docker child's container is the engine's, not a process of the client's tree: when the client
// died (the daemon's connection dropped, the client was killed) the supervisor took the child for
// ended, and the container (deaf to its closed channel) trained on, holding the GPU through the
// next phase and past the result. A docker child is over only once its container is gone.
// Runs through the stand-in engine (test/action/fake-docker: root, mount/pid/network namespaces).
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from '../../trainer/child.js';
import { CHILD_LABEL } from '../../trainer/containers.js';
import { dockerRunArgs } from '../../trainer/isolation.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const FAKE_DOCKER = join(repo, 'test', 'action', 'fake-docker');
const state = mkdtempSync(join(tmpdir(), 'child-container-'));
const env = { ...process.env, PATH: `${FAKE_DOCKER}:${process.env.PATH}`, FAKE_DOCKER_STATE: state } as Record<string, string>;
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', env });
const namespaces = process.getuid?.() === 0 && spawnSync('unshare', ['--mount', '--net', '--pid', '--fork', 'true']).status === 0;

afterAll(() => {
  if (namespaces) for (const id of docker('ps', '-q').split('\n').filter(Boolean)) docker('rm', '-f', id);
  rmSync(state, { recursive: true, force: true });
});

function start(name: string) {
  const argv = dockerRunArgs({
    phase: 'train', image: 'ghcr.io/acme/autoresearch-trainer:test', gpu: false, memoryMb: 256, repoDir: repo, interactive: true, dataMounts: [], env: {}, name,
    command: ['/bin/sh', '-c', 'trap "" TERM; echo up; while :; do sleep 1; done'],
  });
  let up: () => void = () => {};
  const started = new Promise<void>((r) => (up = r));
  // the removal runs docker with the client's env (its PATH finds the stand-in)
  const child = startChild({ argv: ['docker', ...argv], cwd: repo, env, containerName: name, memoryMb: null, onStdout: () => up(), onLog: () => {} });
  return { child, started };
}

(namespaces ? describe : describe.skip)('a docker child', () => {
  it('whose client died is over only once its container is gone', async () => {
    const name = 'autoresearch-train-clientdied';
    const { child, started } = start(name);
    await started;
    const client = Number(execFileSync('pgrep', ['-o', '-f', '--', `--name ${name}`], { encoding: 'utf8' }).trim());
    process.kill(client, 'SIGKILL');
    await child.done;
    expect(docker('ps', '-q', '--filter', `label=${CHILD_LABEL}=${name}`)).toBe('');
  }, 30_000);

  it("the supervisor's kill ends the container, not only the client", async () => {
    const name = 'autoresearch-train-killed';
    const { child, started } = start(name);
    await started;
    child.kill('timeout', 'a test kill');
    const out = await child.done;
    expect(out.killed?.kind).toBe('timeout');
    expect(docker('ps', '-q', '--filter', `label=${CHILD_LABEL}=${name}`)).toBe('');
  }, 30_000);
});
