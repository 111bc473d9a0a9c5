// A world shaped like GitHub's for the Action's tests: a bare "origin" whose candidate
// commits exist only as refs/pull/N/head (as a fork's do), a shallow checkout of the default
// branch with `npm ci` done, the job's environment, and a mocked @actions/core that records
// what the Action reports. Each test file builds its own world, so the files run in parallel.
import { expect, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const NONCE = 'nonce-7f3a9c21';

export interface CoreRecord {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  summary: string;
  setFailed: jest.Mock<(message: string) => void>;
  warning: jest.Mock<(message: string) => void>;
}

/** Mock @actions/core; call before importing action/src/main.js. */
export function mockCore(): CoreRecord {
  const rec: CoreRecord = { inputs: {}, outputs: {}, summary: '', setFailed: jest.fn(), warning: jest.fn() };
  jest.unstable_mockModule('@actions/core', () => ({
    getInput: (name: string, opts?: { required?: boolean }) => {
      const v = (rec.inputs[name] ?? '').trim();
      if (opts?.required && v === '') throw new Error(`Input required and not supplied: ${name}`);
      return v;
    },
    setOutput: (name: string, value: unknown) => {
      rec.outputs[name] = String(value);
    },
    setFailed: rec.setFailed,
    warning: rec.warning,
    setSecret: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    summary: {
      addRaw(text: string) {
        rec.summary += text;
        return this;
      },
      async write() {
        return this;
      },
    },
  }));
  return rec;
}

export function git(cwd: string, ...args: string[]): string {
  const who = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...who } }).trim();
}

export const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

export class World {
  readonly tmp = mkdtempSync(join(tmpdir(), 'action-world-'));
  // like a runner's work folder: readable by the sandbox's own uid when the runner is root
  private readonly readable = chmodSync(this.tmp, 0o755);
  readonly origin = join(this.tmp, 'origin.git');
  private readonly seed = join(this.tmp, 'seed');
  mainSha: string;
  private readonly savedEnv = { ...process.env };
  workspace = '';
  outDir = '';

  /** The default branch: this repository's harness with the count-bigram candidate. */
  constructor() {
    git(this.tmp, 'init', '-q', '--bare', '-b', 'main', this.origin);
    mkdirSync(this.seed);
    cpSync(join(ROOT, 'trainer'), join(this.seed, 'trainer'), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(this.seed, f));
    cpSync(join(FIXTURES, 'count-bigram.ts'), join(this.seed, 'trainer', 'train.ts'));
    writeFileSync(join(this.seed, 'README.md'), '# autoresearch\n');
    writeFileSync(join(this.seed, '.gitignore'), 'node_modules\n');
    git(this.seed, 'init', '-q', '-b', 'main');
    git(this.seed, 'add', '-A');
    git(this.seed, 'commit', '-q', '-m', 'main');
    git(this.seed, 'remote', 'add', 'origin', this.origin);
    git(this.seed, 'push', '-q', 'origin', 'main');
    this.mainSha = git(this.seed, 'rev-parse', 'HEAD');
  }

  /** A commit on top of main, reachable only as refs/pull/<pr>/head of origin; a null
   * content deletes the file, `{ symlink }` makes it a symbolic link. */
  pullRequest(pr: number, files: Record<string, string | null | { symlink: string }>): string {
    git(this.seed, 'checkout', '-q', '--detach', this.mainSha);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) {
        git(this.seed, 'rm', '-q', path);
        continue;
      }
      if (typeof content === 'object') {
        rmSync(join(this.seed, path), { force: true });
        symlinkSync(content.symlink, join(this.seed, path));
        continue;
      }
      mkdirSync(join(this.seed, path, '..'), { recursive: true });
      writeFileSync(join(this.seed, path), content);
    }
    git(this.seed, 'add', '-A');
    git(this.seed, 'commit', '-q', '-m', `pr ${pr}`);
    const sha = git(this.seed, 'rev-parse', 'HEAD');
    git(this.seed, 'push', '-q', 'origin', `${sha}:refs/pull/${pr}/head`);
    return sha;
  }

  /** Main moves on after the pull requests branched off. */
  advanceMain(files: Record<string, string>): string {
    git(this.seed, 'checkout', '-q', '-B', 'main', this.mainSha);
    for (const [path, content] of Object.entries(files)) writeFileSync(join(this.seed, path), content);
    git(this.seed, 'commit', '-q', '-am', 'main moves on');
    git(this.seed, 'push', '-q', 'origin', 'main');
    this.mainSha = git(this.seed, 'rev-parse', 'HEAD');
    return this.mainSha;
  }

  /** A checkout of the default branch with its full history (actions/checkout fetch-depth: 0). */
  fullClone(): string {
    const dir = mkdtempSync(join(this.tmp, 'full-'));
    git(this.tmp, 'clone', '-q', '--branch', 'main', `file://${this.origin}`, dir);
    return dir;
  }

  /** What actions/checkout and `npm ci` leave for one job, that job's environment, and a
   * clean record of what the Action reports. */
  newJob(core: CoreRecord): void {
    Object.assign(core, { inputs: {}, outputs: {}, summary: '' });
    core.setFailed.mockClear();
    core.warning.mockClear();
    this.workspace = mkdtempSync(join(this.tmp, 'ws-'));
    chmodSync(this.workspace, 0o755);
    git(this.tmp, 'clone', '-q', '--depth', '1', '--branch', 'main', `file://${this.origin}`, this.workspace);
    symlinkSync(join(ROOT, 'node_modules'), join(this.workspace, 'node_modules'));
    this.outDir = `${this.workspace}-out`;
    process.env = {
      ...this.savedEnv,
      GITHUB_REPOSITORY: 'acme/autoresearch',
      GITHUB_REPOSITORY_OWNER: 'acme',
      GITHUB_RUN_ID: '4242',
      RUNNER_NAME: 'gpu-box-1',
      RUNNER_TEMP: this.tmp,
      // present on every real runner; the candidate fixtures fail if any reaches them
      GITHUB_TOKEN: 'ghs_not_for_candidates',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token',
    };
  }

  /** The inputs experiment.yml passes, for a tiny CPU run. */
  inputs(sha: string, pr: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      sha,
      pr,
      role: 'candidate',
      nonce: NONCE,
      'eval-seed': '11',
      budget: '1',
      isolation: 'none',
      'eval-bytes': '2048',
      seed: '3',
      'working-directory': this.workspace,
      'out-dir': this.outDir,
      token: '',
      ...extra,
    };
  }

  /** Put a stand-in `docker` first on PATH (a shell script body, or a directory holding one). */
  docker(script: string): void {
    let dir = script;
    if (script.startsWith('#!')) {
      dir = mkdtempSync(join(this.tmp, 'docker-bin-'));
      writeFileSync(join(dir, 'docker'), script, { mode: 0o755 });
    }
    process.env.PATH = `${dir}:${this.savedEnv.PATH}`;
  }

  readResultText(): string {
    return readFileSync(join(this.outDir, 'result.json'), 'utf8');
  }

  close(): void {
    process.env = this.savedEnv;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** The count-bigram candidate with one more line at the top of trainStep (`progress` in scope). */
export function bigramWithStep(line: string): string {
  const src = fixture('count-bigram.ts');
  const head = 'trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D): tfc.Scalar {';
  expect(src).toContain(head);
  return src.replace(head, `trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D, progress: number): tfc.Scalar {\n      ${line}`);
}
