// isolation docker end to end, through a stand-in engine (fake-docker/docker) that builds the
// container's view from the real argv. It needs root and mount/network namespaces, so it runs
// where those exist (not on GitHub-hosted runners, whose Docker would first need the CUDA
// trainer image built). The same candidate run without the container shows the probes bite.
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parseResult } from '../../trainer/result.js';
import { fixture, mockCore, ROOT, World } from './helpers/action-world.js';

const core = mockCore();
const { run } = await import('../../action/src/main.js');

const FAKE_DOCKER = join(import.meta.dirname, 'fake-docker');
const namespaces =
  process.getuid?.() === 0 && execFileSync('sh', ['-c', 'unshare --mount --net true 2>/dev/null && echo yes || true'], { encoding: 'utf8' }).trim() === 'yes';

let world: World;
let server: Server;
let sha: string;

/** The count-bigram candidate, which first tries to leave its lane and fails if it can. */
function escapingCandidate(port: number): string {
  const probe = fixture('sandbox-escapes.ts').replace('export function', 'function');
  const head = 'export function createModel(tf: TF, _seed: number): Candidate {';
  const bigram = fixture('count-bigram.ts');
  expect(bigram).toContain(head);
  const check = `  const escaped = sandboxEscapes(${port});\n  if (escaped.length > 0) throw new Error(\`escaped: \${escaped.join('; ')}\`);`;
  return bigram.replace(head, `${probe}\n${head}\n${check}`);
}

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  world = new World();
  sha = world.pullRequest(11, { 'trainer/train.ts': escapingCandidate((server.address() as { port: number }).port) });
});
afterAll(() => {
  server.close();
  world.close();
});
beforeEach(() => world.newJob(core));

(namespaces ? describe : describe.skip)('a candidate that tries to write the harness and reach the network', () => {
  it('in the container: contained (read-only source, no network), scored, marked docker', async () => {
    world.docker(FAKE_DOCKER);
    core.inputs = world.inputs(sha, '11', { isolation: 'auto', image: 'ghcr.io/acme/autoresearch-trainer:test' });
    await run();

    expect(core.setFailed).not.toHaveBeenCalled();
    const r = parseResult(world.readResultText());
    expect(r.status).toBe('ok');
    expect(r.job?.isolation).toBe('docker');
    expect(readFileSync(join(world.outDir, 'train.log'), 'utf8')).toMatch(/docker run --rm --init --network none --read-only/);
    expect(core.summary).not.toContain('ISOLATION: NONE');
    expect(readFileSync(join(world.workspace, 'trainer', 'bpb.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'trainer', 'bpb.ts'), 'utf8'));
  });

  it('in the bubblewrap sandbox (no Docker): contained the same way, scored, marked sandbox', async () => {
    world.docker('#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n');
    core.inputs = world.inputs(sha, '11', { isolation: 'auto' });
    await run();

    expect(core.setFailed).not.toHaveBeenCalled();
    const r = parseResult(world.readResultText());
    expect(r.status).toBe('ok');
    expect(r.job?.isolation).toBe('sandbox');
    expect(readFileSync(join(world.outDir, 'train.log'), 'utf8')).toMatch(/bwrap --unshare-user --unshare-ipc --unshare-pid --unshare-net/);
    expect(core.summary).not.toContain('ISOLATION: NONE');
    expect(readFileSync(join(world.workspace, 'trainer', 'bpb.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'trainer', 'bpb.ts'), 'utf8'));
  });

  it('without the container the same candidate escapes, and is failed for it', async () => {
    core.inputs = world.inputs(sha, '11', { isolation: 'none' });
    await run();

    const r = parseResult(world.readResultText());
    expect(r.failure?.kind).toBe('crash');
    expect(r.failure?.message).toMatch(/escaped: wrote the harness source; read the Brown corpus; reached a server on port \d+/);
  });
});
