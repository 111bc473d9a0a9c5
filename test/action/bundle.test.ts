// The committed bundle, run the way a runner runs it: `node action/dist/index.js` with
// INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and the real @actions/core.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResult } from '../../trainer/result.js';

const ROOT = join(import.meta.dirname, '..', '..');
let tmp: string;
let workspace: string;
let sha: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'action-bundle-'));
  workspace = join(tmp, 'ws');
  mkdirSync(workspace);
  cpSync(join(ROOT, 'trainer'), join(workspace, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(ROOT, f), join(workspace, f));
  cpSync(join(ROOT, 'action'), join(workspace, 'action'), { recursive: true });
  cpSync(join(import.meta.dirname, 'fixtures', 'count-bigram.ts'), join(workspace, 'trainer', 'train.ts'));
  writeFileSync(join(workspace, '.gitignore'), 'node_modules\n');
  git(workspace, 'init', '-q', '-b', 'main');
  git(workspace, 'add', '-A');
  git(workspace, 'commit', '-q', '-m', 'main');
  sha = git(workspace, 'rev-parse', 'HEAD'); // a baseline run of the default branch itself
  symlinkSync(join(ROOT, 'node_modules'), join(workspace, 'node_modules'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runBundle(inputs: Record<string, string>, files: { output: string; summary: string }): Promise<{ code: number | null; stdout: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    GITHUB_REPOSITORY: 'acme/autoresearch',
    GITHUB_RUN_ID: '99',
    RUNNER_NAME: 'box',
    RUNNER_TEMP: tmp,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(workspace, 'action', 'dist', 'index.js')], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('action/dist/index.js on a runner', () => {
  it('runs a baseline of the default branch end to end: outputs file, summary file, result.json', async () => {
    const files = { output: join(tmp, 'output'), summary: join(tmp, 'summary.md') };
    writeFileSync(files.output, '');
    writeFileSync(files.summary, '');
    const out = join(tmp, 'result');
    const { code, stdout } = await runBundle(
      { sha, role: 'baseline', nonce: 'bundle-nonce-01', 'eval-seed': '5', budget: '1', isolation: 'none', 'eval-bytes': '2048', 'out-dir': out, token: '' },
      files,
    );
    expect({ code, tail: code === 0 ? '' : stdout.slice(-2000) }).toEqual({ code: 0, tail: '' });

    const outputs = readFileSync(files.output, 'utf8');
    expect(outputs).toMatch(/^status<<ghadelimiter_[\w-]+\nok\n/m);
    expect(outputs).toContain(`result-path<<`);
    const r = parseResult(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(outputs).toContain(`\n${r.val_bpb}\n`);
    expect(r.job).toMatchObject({ role: 'baseline', pr: null, sha, run_id: 99, runner_name: 'box', isolation: 'none' });
    expect(readFileSync(files.summary, 'utf8')).toContain(`## val_bpb ${r.val_bpb!.toFixed(4)} · baseline @`);
    expect(readFileSync(files.summary, 'utf8')).toContain('(identical to the default branch)');
    expect(stdout).toContain('::warning::ISOLATION: NONE');
  });

  it('fails with a workflow-command error a person can read', async () => {
    const files = { output: join(tmp, 'output2'), summary: join(tmp, 'summary2.md') };
    writeFileSync(files.output, '');
    writeFileSync(files.summary, '');
    const { code, stdout } = await runBundle({ sha, role: 'candidate', nonce: 'bundle-nonce-02', 'eval-seed': '5', pr: '' }, files);
    expect(code).toBe(1);
    expect(stdout).toContain('::error::Input pr is empty but role is candidate; a candidate run needs the pull request number.');
  });
});

// Workflow commands: the runner reads every stdout line of the Action that starts (after blanks)
// with "::" as a command (an annotation, a mask, an output, stop-commands). A candidate's printed
// lines and its error message must never become one: they are the candidate's words, and the
// run's annotations are read as the job's.
describe('a candidate printing workflow commands', () => {
  it('cannot issue one through the Action: its output stays in train.log, its error is escaped in the Action\'s own', async () => {
    const head = 'trainStep(x: tfc.Tensor2D, y: tfc.Tensor2D): tfc.Scalar {';
    const src = readFileSync(join(workspace, 'trainer', 'train.ts'), 'utf8');
    expect(src).toContain(head);
    const forge = [
      'console.log("::error title=FORGED-LOG::the harness is broken");',
      'console.error("::add-mask::FORGED-MASK");',
      'process.stderr.write("\\n::notice title=FORGED-STDERR::val_bpb 0.1 verified\\n");',
      'throw new Error("boom\\n::warning title=FORGED-THROW::verified by the App\\r\\n::set-output name=status::ok");',
    ].join('\n      ');
    git(workspace, 'checkout', '-q', '-b', 'forger');
    writeFileSync(join(workspace, 'trainer', 'train.ts'), src.replace(head, `${head}\n      ${forge}`));
    git(workspace, 'commit', '-q', '-am', 'forger');
    const forger = git(workspace, 'rev-parse', 'HEAD');
    git(workspace, 'checkout', '-q', 'main');

    const files = { output: join(tmp, 'output3'), summary: join(tmp, 'summary3.md') };
    writeFileSync(files.output, '');
    writeFileSync(files.summary, '');
    const out = join(tmp, 'result3');
    const { code, stdout } = await runBundle(
      { sha: forger, pr: '9', role: 'candidate', nonce: 'bundle-nonce-03', 'eval-seed': '5', budget: '1', isolation: 'none', 'eval-bytes': '2048', 'out-dir': out, token: '' },
      files,
    );
    expect(code).toBe(1); // the candidate failed
    const r = parseResult(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(r.status).toBe('failed');
    // the forged lines did run (they are in the log) ...
    expect(readFileSync(join(out, 'train.log'), 'utf8')).toContain('FORGED-LOG');
    // ... but no line the runner reads as a command carries them: only the Action's own
    // ::error::, whose message (the candidate's included) is escaped onto one line
    const commands = stdout.split(/\r?\n|\r/).filter((l) => l.trimStart().startsWith('::'));
    const forged = commands.filter((l) => /FORGED/.test(l) && !/^::error::The candidate at [0-9a-f]{12} failed /.test(l));
    expect(forged).toEqual([]);
    expect(commands.filter((l) => /^\s*::(add-mask|set-output|stop-commands|notice)/.test(l))).toEqual([]);
  });
});
