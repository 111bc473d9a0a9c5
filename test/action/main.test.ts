// The real Action `run()` against the real harness (tiny budget, CPU/wasm backend): a fork's
// PR scored from refs/pull/N/head with only its train.ts, and the inputs and runners it
// refuses, each with one message a person can act on.
import { describe, it, expect, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkResult } from '../../app/policy/result-check.js';
import { harnessSha256 } from '../../trainer/harness-version.js';
import { parseResult } from '../../trainer/result.js';
import { fixture, git, mockCore, NONCE, ROOT, World } from './helpers/action-world.js';

const core = mockCore();
const { run } = await import('../../action/src/main.js');

let world: World;
const shas: Record<string, string> = {};

beforeAll(() => {
  world = new World();
  shas.improved = world.pullRequest(7, {
    'trainer/train.ts': fixture('count-bigram.ts').replace('const CONTEXT = 32;', 'const CONTEXT = 16;'),
    'README.md': '# autoresearch\nI also changed this.\n',
    '.github/workflows/evil.yml': 'on: push\njobs: {}\n',
    'trainer/bpb.ts': 'export const bitsPerByte = () => 0;\n',
  });
  shas.noTrainTs = world.pullRequest(10, { 'trainer/train.ts': null });
});
afterAll(() => world.close());
beforeEach(() => world.newJob(core));

function experiment(sha: string, pr: string, extra: Record<string, string> = {}) {
  core.inputs = world.inputs(sha, pr, extra);
  return run();
}

describe('the Action on a real harness run', () => {
  it('scores a fork PR from refs/pull/N/head using only its train.ts, and reports it', async () => {
    await experiment(shas.improved, '7');

    expect(core.setFailed).not.toHaveBeenCalled();
    expect(core.outputs.status).toBe('ok');
    expect(core.outputs['result-path']).toBe(join(world.outDir, 'result.json'));
    const r = parseResult(world.readResultText());
    expect(Number(core.outputs.val_bpb)).toBe(r.val_bpb);
    expect(r.val_bpb).toBeGreaterThan(0);
    expect(r.val_bpb).toBeLessThan(8); // a trained bigram beats the uniform model
    expect(r.job).toEqual({
      role: 'candidate',
      nonce: NONCE,
      repo: 'acme/autoresearch',
      pr: 7,
      sha: shas.improved,
      run_id: 4242,
      runner_name: 'gpu-box-1',
      isolation: 'none',
    });
    expect(r.eval_seed).toBe(11);
    expect(r.eval_split).toBe('heldout');
    expect(readFileSync(join(world.outDir, 'train.log'), 'utf8').length).toBeGreaterThan(0);

    // only train.ts came from the PR; its other changes were not checked out
    const placed = readFileSync(join(world.workspace, 'trainer', 'train.ts'));
    expect(placed.toString()).toContain('const CONTEXT = 16;');
    expect(r.candidate_sha256).toBe(createHash('sha256').update(placed).digest('hex'));
    expect(readFileSync(join(world.workspace, 'README.md'), 'utf8')).toBe('# autoresearch\n');
    expect(readFileSync(join(world.workspace, 'trainer', 'bpb.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'trainer', 'bpb.ts'), 'utf8'));
    expect(existsSync(join(world.workspace, '.github', 'workflows', 'evil.yml'))).toBe(false);

    expect(core.summary).toContain(`val_bpb ${r.val_bpb!.toFixed(4)}`);
    expect(core.summary).toMatch(/3 other changed file\(s\) were \*\*ignored\*\*: `.github\/workflows\/evil.yml`, `README.md`, `trainer\/bpb.ts`/);
    expect(core.summary).toContain('-const CONTEXT = 32;');
    expect(core.summary).toContain('+const CONTEXT = 16;');
    expect(core.summary).toContain('ISOLATION: NONE');
    expect(core.summary).toContain('```mermaid\nxychart-beta');
    expect(core.summary).toContain(`bigram reference | ${r.bigram_bpb.toFixed(4)}`);
    expect(core.warning).toHaveBeenCalledWith(expect.stringContaining("ignored the candidate's other changes: .github/workflows/evil.yml, README.md, trainer/bpb.ts"));

    // and the App accepts the artifact: hashes recomputed from git objects, as it does from GitHub
    const blob = (rev: string, path: string) => execFileSync('git', ['--git-dir', world.origin, 'show', `${rev}:${path}`]);
    const harnessFiles = git(world.tmp, '--git-dir', world.origin, 'ls-tree', '-r', '--name-only', world.mainSha, '--', 'trainer')
      .split('\n')
      .map((path) => ({ path, content: blob(world.mainSha, path) }));
    const verdict = checkResult(
      world.readResultText(),
      { job_id: NONCE, role: 'candidate', repo: 'acme/autoresearch', pr: 7, sha: shas.improved },
      createHash('sha256').update(blob(shas.improved, 'trainer/train.ts')).digest('hex'),
      harnessSha256(harnessFiles),
    );
    expect(verdict.reason).toBeNull();
    expect(verdict.validated).toBe(true);
  });
});

describe('the Action refusing what it cannot run', () => {
  it('names an unreachable commit without running anything', async () => {
    await experiment('0123456789abcdef0123456789abcdef01234567', '7');
    expect(core.outputs.status).toBe('error');
    expect(core.setFailed).toHaveBeenCalledWith(
      'Commit 0123456789abcdef0123456789abcdef01234567 could not be fetched from origin (tried refs/pull/7/head and 0123456789abcdef0123456789abcdef01234567); if the PR was force-pushed, the App dispatches the new head.',
    );
    expect(existsSync(join(world.outDir, 'result.json'))).toBe(false);
  });

  it('refuses isolation docker on a runner whose Docker engine does not answer', async () => {
    world.docker('#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n');
    await experiment(shas.improved, '7', { isolation: 'docker' });
    expect(core.setFailed).toHaveBeenCalledWith(
      'Input isolation is docker but no Docker engine answers on this runner; install Docker (and the NVIDIA container toolkit for GPUs), or set isolation: auto to use the bubblewrap sandbox.',
    );
    expect(existsSync(join(world.outDir, 'result.json'))).toBe(false);
  });

  it('names an image the runner cannot pull, before training', async () => {
    // an engine that answers, and a registry that refuses the image (a private package)
    world.docker(
      [
        '#!/bin/sh',
        'case "$1" in',
        '  info) echo 27.3.1 ;;',
        '  image) echo "Error: No such image: $5" >&2; exit 1 ;;',
        '  pull) echo "Error response from daemon: denied" >&2; exit 1 ;;',
        '  *) echo "unexpected docker $*" >&2; exit 3 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    await experiment(shas.improved, '7', { isolation: 'auto' });
    expect(core.setFailed).toHaveBeenCalledWith(
      'Could not pull the trainer image ghcr.io/acme/autoresearch-trainer:latest: Error response from daemon: denied. Make the GHCR package public (or run `docker login ghcr.io` on the runner), or pass the image input.',
    );
    expect(existsSync(join(world.outDir, 'result.json'))).toBe(false);
  });

  it('refuses a commit without trainer/train.ts', async () => {
    await experiment(shas.noTrainTs, '10');
    expect(core.setFailed).toHaveBeenCalledWith(`Commit ${shas.noTrainTs} has no trainer/train.ts; an experiment must change that file.`);
  });

  it.each([
    [{ role: 'winner' }, 'Input role "winner" must be candidate, baseline or verify.'],
    [{ sha: 'abc123' }, 'Input sha "abc123" is not a full 40-character commit SHA; pass the PR head SHA the App dispatched.'],
    [{ pr: '' }, 'Input pr is empty but role is candidate; a candidate run needs the pull request number.'],
    [{ budget: 'five' }, 'Input budget "five" must be a number of seconds between 0 and 86400, e.g. 300.'],
    [{ nonce: 'short' }, 'Input nonce "short" must be 8 to 128 letters, digits, "-" or "_" (the App\'s nonce for this job).'],
  ])('rejects bad input %j with one clear message', async (bad, message) => {
    await experiment(shas.improved, '7', bad);
    expect(core.setFailed).toHaveBeenCalledWith(message);
  });
});
