// The real Action `run()` against the real harness (tiny budget, CPU/wasm backend) in a
// temporary git setup shaped like GitHub's: a bare "origin" whose candidate commits exist
// only as refs/pull/N/head (as for forks), and a shallow checkout of the default branch.
import { describe, it, expect, jest, beforeAll, beforeEach, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkResult } from '../../app/policy/result-check.js';
import { harnessSha256 } from '../../trainer/harness-version.js';
import { parseResult } from '../../trainer/result.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');

let inputs: Record<string, string> = {};
let outputs: Record<string, string> = {};
let summary = '';
const setFailed = jest.fn<(message: string) => void>();
const warning = jest.fn<(message: string) => void>();

jest.unstable_mockModule('@actions/core', () => ({
  getInput: (name: string, opts?: { required?: boolean }) => {
    const v = (inputs[name] ?? '').trim();
    if (opts?.required && v === '') throw new Error(`Input required and not supplied: ${name}`);
    return v;
  },
  setOutput: (name: string, value: unknown) => {
    outputs[name] = String(value);
  },
  setFailed,
  warning,
  setSecret: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  error: () => undefined,
  summary: {
    addRaw(text: string) {
      summary += text;
      return this;
    },
    async write() {
      return this;
    },
  },
}));
const { run } = await import('../../action/src/main.js');

let tmp: string;
let server: Server;
let origin: string;
let mainSha: string;
const shas: Record<string, string> = {};
const savedEnv = { ...process.env };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();
}

/** A commit on top of main, reachable only as refs/pull/<pr>/head of origin. */
function pullRequest(seed: string, pr: number, files: Record<string, string>): string {
  git(seed, 'checkout', '-q', '--detach', mainSha);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), content);
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', `pr ${pr}`);
  const sha = git(seed, 'rev-parse', 'HEAD');
  git(seed, 'push', '-q', 'origin', `${sha}:refs/pull/${pr}/head`);
  return sha;
}

/** The count-bigram candidate, which first tries to leave its lane and fails if it can. */
function escapingCandidate(port: number): string {
  const bigram = readFileSync(join(FIXTURES, 'count-bigram.ts'), 'utf8');
  const probe = readFileSync(join(FIXTURES, 'sandbox-escapes.ts'), 'utf8').replace('export function', 'function');
  const head = 'export function createModel(tf: TF, _seed: number): Candidate {';
  expect(bigram).toContain(head);
  return bigram.replace(
    head,
    `${probe}\n${head}\n  const escaped = sandboxEscapes(${port});\n  if (escaped.length > 0) throw new Error(\`escaped: \${escaped.join('; ')}\`);`,
  );
}

beforeAll(async () => {
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  tmp = mkdtempSync(join(tmpdir(), 'action-main-'));
  origin = join(tmp, 'origin.git');
  const seed = join(tmp, 'seed');
  git(tmp, 'init', '-q', '--bare', '-b', 'main', origin);
  mkdirSync(seed);
  cpSync(join(ROOT, 'trainer'), join(seed, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(seed, f));
  cpSync(join(FIXTURES, 'count-bigram.ts'), join(seed, 'trainer', 'train.ts'));
  writeFileSync(join(seed, 'README.md'), '# autoresearch\n');
  writeFileSync(join(seed, '.gitignore'), 'node_modules\n');
  git(seed, 'init', '-q', '-b', 'main');
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'main');
  git(seed, 'remote', 'add', 'origin', origin);
  git(seed, 'push', '-q', 'origin', 'main');
  mainSha = git(seed, 'rev-parse', 'HEAD');

  const bigram = readFileSync(join(FIXTURES, 'count-bigram.ts'), 'utf8');
  shas.improved = pullRequest(seed, 7, {
    'trainer/train.ts': bigram.replace('const CONTEXT = 32;', 'const CONTEXT = 16;'),
    'README.md': '# autoresearch\nI also changed this.\n',
    '.github/workflows/evil.yml': 'on: push\njobs: {}\n',
    'trainer/bpb.ts': 'export const bitsPerByte = () => 0;\n',
  });
  shas.nan = pullRequest(seed, 8, { 'trainer/train.ts': readFileSync(join(FIXTURES, 'nan-loss.ts'), 'utf8') });
  shas.crash = pullRequest(seed, 9, {
    'trainer/train.ts': "export function createModel(): never {\n  throw new Error('out of ideas');\n}\n",
  });
  // trains normally, then one step never returns: the harness kills it after its grace period
  shas.hang = pullRequest(seed, 12, {
    'trainer/train.ts': bigram.replace(
      '      return tf.tidy(() => {\n        const ox',
      '      if (progress > 0.5) for (;;);\n      return tf.tidy(() => {\n        const ox',
    ).replace('trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D): tfc.Scalar {', 'trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D, progress: number): tfc.Scalar {'),
  });
  shas.escaping = pullRequest(seed, 11, { 'trainer/train.ts': escapingCandidate(port) });
  shas.noTrainTs = pullRequest(seed, 10, { 'trainer/train.ts': '' });
  git(seed, 'rm', '-q', 'trainer/train.ts');
  git(seed, 'commit', '-q', '-m', 'delete train.ts');
  shas.noTrainTs = git(seed, 'rev-parse', 'HEAD');
  git(seed, 'push', '-q', 'origin', `${shas.noTrainTs}:refs/pull/10/head`, '--force');
});

/** A `docker` whose engine does not answer, as on a runner with the CLI but no daemon. */
function deadDocker(): string {
  const bin = join(tmp, 'dead-docker-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n', { mode: 0o755 });
  return `${bin}:${savedEnv.PATH}`;
}

/** A `docker` whose engine answers but whose registry refuses the image (a private package). */
function dockerWithoutImage(): string {
  const bin = join(tmp, 'no-image-docker-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'docker'),
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
    { mode: 0o755 },
  );
  return `${bin}:${savedEnv.PATH}`;
}

afterAll(() => {
  server.close();
  process.env = savedEnv;
  rmSync(tmp, { recursive: true, force: true });
});

let workspace: string;
let outDir: string;
beforeEach(() => {
  // what actions/checkout leaves: a shallow clone of the default branch, then `npm ci`
  workspace = mkdtempSync(join(tmp, 'ws-'));
  git(tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${origin}`, workspace);
  symlinkSync(join(ROOT, 'node_modules'), join(workspace, 'node_modules'));
  outDir = join(workspace, '..', `${workspace.split('/').pop()}-out`);
  inputs = {};
  outputs = {};
  summary = '';
  setFailed.mockClear();
  warning.mockClear();
  process.env = {
    ...savedEnv,
    GITHUB_REPOSITORY: 'acme/autoresearch',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_RUN_ID: '4242',
    RUNNER_NAME: 'gpu-box-1',
    RUNNER_TEMP: tmp,
    // present on every real runner; the candidate fixture fails if any reaches it
    GITHUB_TOKEN: 'ghs_not_for_candidates',
    ACTIONS_RUNTIME_TOKEN: 'runtime-token',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token',
  };
});

function experiment(sha: string, pr: string, extra: Record<string, string> = {}) {
  inputs = {
    sha,
    pr,
    role: 'candidate',
    nonce: 'nonce-7f3a9c21',
    'eval-seed': '11',
    budget: '2',
    isolation: 'none',
    'eval-bytes': '4096',
    seed: '3',
    'working-directory': workspace,
    'out-dir': outDir,
    token: '',
    ...extra,
  };
  return run();
}

describe('the Action on a real harness run', () => {
  it('scores a fork PR from refs/pull/N/head using only its train.ts, and reports it', async () => {
    await experiment(shas.improved, '7');

    expect(setFailed).not.toHaveBeenCalled();
    expect(outputs.status).toBe('ok');
    expect(outputs['result-path']).toBe(join(outDir, 'result.json'));
    const r = parseResult(readFileSync(outputs['result-path'], 'utf8'));
    expect(Number(outputs.val_bpb)).toBe(r.val_bpb);
    expect(r.val_bpb).toBeGreaterThan(0);
    expect(r.val_bpb).toBeLessThan(8); // a trained bigram beats the uniform model
    expect(r.job).toEqual({
      role: 'candidate',
      nonce: 'nonce-7f3a9c21',
      repo: 'acme/autoresearch',
      pr: 7,
      sha: shas.improved,
      run_id: 4242,
      runner_name: 'gpu-box-1',
      isolation: 'none',
    });
    expect(r.eval_seed).toBe(11);
    expect(r.eval_split).toBe('heldout');
    expect(readFileSync(join(outDir, 'train.log'), 'utf8').length).toBeGreaterThan(0);

    // only train.ts came from the PR; its other changes were not checked out
    const placed = readFileSync(join(workspace, 'trainer', 'train.ts'));
    expect(placed.toString()).toContain('const CONTEXT = 16;');
    expect(r.candidate_sha256).toBe(createHash('sha256').update(placed).digest('hex'));
    expect(readFileSync(join(workspace, 'README.md'), 'utf8')).toBe('# autoresearch\n');
    expect(readFileSync(join(workspace, 'trainer', 'bpb.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'trainer', 'bpb.ts'), 'utf8'));
    expect(existsSync(join(workspace, '.github', 'workflows', 'evil.yml'))).toBe(false);

    expect(summary).toContain(`val_bpb ${r.val_bpb!.toFixed(4)}`);
    expect(summary).toMatch(/3 other changed file\(s\) were \*\*ignored\*\*: `.github\/workflows\/evil.yml`, `README.md`, `trainer\/bpb.ts`/);
    expect(summary).toContain('-const CONTEXT = 32;');
    expect(summary).toContain('+const CONTEXT = 16;');
    expect(summary).toContain('ISOLATION: NONE');
    expect(summary).toContain('```mermaid\nxychart-beta');
    expect(summary).toContain(`bigram reference | ${r.bigram_bpb.toFixed(4)}`);

    // and the App accepts the artifact: hashes recomputed from git objects, as it does from GitHub
    const blob = (rev: string, path: string) => execFileSync('git', ['--git-dir', origin, 'show', `${rev}:${path}`]);
    const harnessFiles = git(tmp, '--git-dir', origin, 'ls-tree', '-r', '--name-only', mainSha, '--', 'trainer')
      .split('\n')
      .map((path) => ({ path, content: blob(mainSha, path) }));
    const verdict = checkResult(
      readFileSync(outputs['result-path'], 'utf8'),
      { job_id: 'nonce-7f3a9c21', role: 'candidate', repo: 'acme/autoresearch', pr: 7, sha: shas.improved },
      createHash('sha256').update(blob(shas.improved, 'trainer/train.ts')).digest('hex'),
      harnessSha256(harnessFiles),
    );
    expect(verdict.reason).toBeNull();
    expect(verdict.validated).toBe(true);

    expect(warning).toHaveBeenCalledWith(expect.stringContaining('ignored the candidate\'s other changes: .github/workflows/evil.yml, README.md, trainer/bpb.ts'));
  });

  it('reports a diverging candidate as failed (nan) with its log, and fails the step clearly', async () => {
    process.env.PATH = deadDocker(); // isolation auto falls back to none, and says so
    await experiment(shas.nan, '8', { isolation: 'auto' });

    expect(outputs.status).toBe('failed');
    expect(outputs.val_bpb).toBe('');
    const r = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.failure?.kind).toBe('nan');
    expect(r.val_bpb).toBeNull();
    expect(r.job?.pr).toBe(8);
    expect(r.job?.isolation).toBe('none');
    expect(summary).toContain('ISOLATION: NONE');
    expect(readFileSync(join(outDir, 'train.log'), 'utf8').length).toBeGreaterThan(0);
    expect(setFailed).toHaveBeenCalledTimes(1);
    expect(setFailed.mock.calls[0][0]).toMatch(new RegExp(`^The candidate at ${shas.nan.slice(0, 12)} failed \\(nan\\): .+ See train.log in the result-nonce-7f3a9c21 artifact\\.$`, 's'));
    expect(summary).toContain('## ❌ Failed (nan)');
  });

  it('reports a crashing candidate as failed (crash) with the reason', async () => {
    await experiment(shas.crash, '9');

    expect(outputs.status).toBe('failed');
    const r = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.failure?.kind).toBe('crash');
    expect(r.failure?.message).toContain('out of ideas');
    expect(setFailed.mock.calls[0][0]).toMatch(/failed \(crash\): .*out of ideas/s);
  });
});

describe('the Action on a candidate that will not stop', () => {
  it('reports a timeout with the reason and still leaves the log', async () => {
    const source = git(tmp, '--git-dir', origin, 'show', `${shas.hang}:trainer/train.ts`);
    expect(source).toContain('if (progress > 0.5) for (;;);');
    await experiment(shas.hang, '12');

    expect(outputs.status).toBe('failed');
    const r = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.failure?.kind).toBe('timeout');
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).toMatch(/did not stop/);
    expect(setFailed.mock.calls[0][0]).toMatch(/failed \(timeout\): .*did not stop/s);
  });
});

describe('the Action refusing what it cannot run', () => {
  it('names an unreachable commit without running anything', async () => {
    await experiment('0123456789abcdef0123456789abcdef01234567', '7');
    expect(outputs.status).toBe('error');
    expect(setFailed).toHaveBeenCalledWith(
      'Commit 0123456789abcdef0123456789abcdef01234567 could not be fetched from origin (tried refs/pull/7/head and 0123456789abcdef0123456789abcdef01234567); if the PR was force-pushed, the App dispatches the new head.',
    );
    expect(existsSync(join(outDir, 'result.json'))).toBe(false);
  });

  it('refuses isolation docker on a runner whose Docker engine does not answer', async () => {
    process.env.PATH = deadDocker();
    await experiment(shas.improved, '7', { isolation: 'docker' });
    expect(setFailed).toHaveBeenCalledWith(
      'Input isolation is docker but no Docker engine answers on this runner; install Docker (and the NVIDIA container toolkit for GPUs) or set isolation: auto.',
    );
    expect(existsSync(join(outDir, 'result.json'))).toBe(false);
  });

  it('names an image the runner cannot pull, before training', async () => {
    process.env.PATH = dockerWithoutImage();
    await experiment(shas.improved, '7', { isolation: 'auto' });
    expect(setFailed).toHaveBeenCalledWith(
      'Could not pull the trainer image ghcr.io/acme/autoresearch-trainer:latest: Error response from daemon: denied. Make the GHCR package public (or run `docker login ghcr.io` on the runner), or pass the image input.',
    );
    expect(existsSync(join(outDir, 'result.json'))).toBe(false);
  });

  it('refuses a commit without trainer/train.ts', async () => {
    await experiment(shas.noTrainTs, '10');
    expect(setFailed).toHaveBeenCalledWith(`Commit ${shas.noTrainTs} has no trainer/train.ts; an experiment must change that file.`);
  });

  it.each([
    [{ role: 'winner' }, 'Input role "winner" must be candidate, baseline or verify.'],
    [{ sha: 'abc123' }, 'Input sha "abc123" is not a full 40-character commit SHA; pass the PR head SHA the App dispatched.'],
    [{ pr: '' }, 'Input pr is empty but role is candidate; a candidate run needs the pull request number.'],
    [{ budget: 'five' }, 'Input budget "five" must be a number of seconds between 0 and 86400, e.g. 300.'],
    [{ nonce: 'short' }, 'Input nonce "short" must be 8 to 128 letters, digits, "-" or "_" (the App\'s nonce for this job).'],
  ])('rejects bad input %j with one clear message', async (bad, message) => {
    await experiment(shas.improved, '7', bad);
    expect(setFailed).toHaveBeenCalledWith(message);
  });
});

// A stand-in engine (test/action/fake-docker/docker) that builds the container's view from
// the real argv: it needs root and mount/network namespaces, so it runs where those exist
// (not on GitHub-hosted runners, whose Docker would need the CUDA image built first).
const FAKE_DOCKER = join(import.meta.dirname, 'fake-docker');
const namespaces = process.getuid?.() === 0 && execFileSync('sh', ['-c', 'unshare --mount --net true && echo yes || true'], { encoding: 'utf8' }).trim() === 'yes';
(namespaces ? describe : describe.skip)('isolation docker (simulated engine) against a candidate that tries to escape', () => {
  it('in the container: source read-only, no network; the run is scored and marked docker', async () => {
    process.env.PATH = `${FAKE_DOCKER}:${savedEnv.PATH}`;
    await experiment(shas.escaping, '11', { isolation: 'auto', image: 'ghcr.io/acme/autoresearch-trainer:test' });

    expect(setFailed).not.toHaveBeenCalled();
    const r = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.status).toBe('ok');
    expect(r.job?.isolation).toBe('docker');
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).toMatch(/docker run --rm --init --network none --read-only/);
    expect(summary).not.toContain('ISOLATION: NONE');
    expect(readFileSync(join(workspace, 'trainer', 'bpb.ts'), 'utf8')).toBe(readFileSync(join(ROOT, 'trainer', 'bpb.ts'), 'utf8'));
  });

  it('without the container the same candidate escapes, and is failed for it', async () => {
    await experiment(shas.escaping, '11', { isolation: 'none' });

    const r = parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.failure?.kind).toBe('crash');
    expect(r.failure?.message).toMatch(/escaped: wrote the harness source; reached a server on port \d+/);
  });
});
