// What a hostile candidate can reach on a volunteer's machine, through the real supervisor and
// real children: in the bubblewrap sandbox, in the namespace stand-in for Docker
// (test/action/fake-docker: root, mount/pid/network namespaces), and, to show that each attack
// works where nothing stops it, with isolation none. The candidate (fixtures/attacks.ts) tries
// every escape in createModel and fails the run naming the ones that worked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBrown } from '../../trainer/data/brown.js';
import type { Dataset } from '../../trainer/data/dataset.js';
import { makeReporter } from '../../trainer/progress.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { sandboxProblem } from '../../trainer/sandbox.js';
import { runExperiment, type ExperimentOptions } from '../../trainer/supervisor.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const FAKE_DOCKER = join(repo, 'test', 'action', 'fake-docker');
const root = process.getuid?.() === 0;
const namespaces = root && spawnSync('unshare', ['--mount', '--net', '--pid', '--fork', 'true']).status === 0;

let brown: Dataset;
let tmp: string;
let checkout: string;
let server: Server;
let decoy: ChildProcess;
const token = `runtime-token-${process.pid}-${Date.now()}`;
const secret = () => join(tmp, 'volunteer', 'id_ed25519');
const hostFile = () => join(tmp, 'volunteer', 'bashrc');
const otherRun = () => join(tmp, 'autoresearch-other', 'train');
let daemonSeq = 0;

beforeAll(async () => {
  brown = loadBrown();
  tmp = mkdtempSync(join(tmpdir(), 'containment-'));
  chmodSync(tmp, 0o755); // as a runner's work folder: the sandbox's own uid reads the checkout
  checkout = join(tmp, 'checkout');
  mkdirSync(checkout);
  cpSync(join(repo, 'trainer'), join(checkout, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(repo, f), join(checkout, f));
  symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'));
  mkdirSync(join(tmp, 'volunteer'));
  mkdirSync(otherRun(), { recursive: true });
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // the Action's process, whose environment holds the job's runtime token
  decoy = spawn('sleep', ['600'], { env: { PATH: process.env.PATH, ACTIONS_RUNTIME_TOKEN: token }, stdio: 'ignore' });
});

afterAll(() => {
  decoy?.kill('SIGKILL');
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Fresh host files for each run, so that one run's escape cannot hide another's. */
function resetHost(): void {
  writeFileSync(secret(), 'secret key material\n', { mode: 0o600 });
  writeFileSync(hostFile(), 'export PATH=/usr/bin\n', { mode: 0o644 });
  writeFileSync(join(otherRun(), 'checkpoint.json'), '{"step":42}');
}

function candidate(targets: Record<string, unknown>): void {
  const text = readFileSync(join(repo, 'test', 'trainer', 'fixtures', 'attacks.ts'), 'utf8');
  const line = /^const TARGETS: Targets = .*\/\/ TARGETS$/m;
  expect(text).toMatch(line);
  const full = {
    secret: secret(),
    hostFile: hostFile(),
    otherRun: otherRun(),
    token,
    port: (server.address() as { port: number }).port,
    bomb: 0,
    bombCap: 0,
    daemon: '',
    grandchildMb: 0,
    ...targets,
  };
  writeFileSync(join(checkout, 'trainer', 'train.ts'), text.replace(line, `const TARGETS: Targets = ${JSON.stringify(full)};`));
}

async function run(over: Partial<ExperimentOptions>): Promise<ExperimentResult> {
  const outDir = mkdtempSync(join(tmp, 'out-'));
  return runExperiment({
    budgetSeconds: 1,
    backend: 'wasm',
    seed: 7,
    evalSeed: null,
    evalBytes: 2048,
    data: 'brown',
    dataset: brown,
    cacheDir: join(outDir, 'cache'),
    candidate: join(checkout, 'trainer', 'train.ts'),
    outDir,
    warmupSteps: 0,
    memoryMb: null,
    isolation: 'none',
    image: null,
    graceSeconds: 2,
    repoDir: checkout,
    reporter: makeReporter({ tty: false, quiet: true }),
    ...over,
  });
}

/** pids of live processes whose command line is `sleep <arg>`. */
function sleepers(arg: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'latin1') === `sleep\0${arg}\0`) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

function expectHostUntouched(): void {
  expect(readFileSync(hostFile(), 'utf8')).toBe('export PATH=/usr/bin\n');
  expect(statSync(hostFile()).mode & 0o777).toBe(0o644);
  expect(readFileSync(join(otherRun(), 'checkpoint.json'), 'utf8')).toBe('{"step":42}');
  expect(existsSync(join(checkout, 'trainer', 'attack-was-here.ts'))).toBe(false);
}

const PATHS: [string, boolean, Partial<ExperimentOptions>][] = [
  // required everywhere the tests run (.ci/run installs bubblewrap): never skipped
  ['the bubblewrap sandbox', true, { isolation: 'sandbox' }],
  ['the namespace stand-in for Docker', namespaces, { isolation: 'docker', image: 'ghcr.io/acme/autoresearch-trainer:test' }],
];

describe.each(PATHS)('in %s', (_name, available, mode) => {
  const maybe = available ? it : it.skip;
  let savedPath: string | undefined;
  beforeAll(() => {
    savedPath = process.env.PATH;
    if (mode.isolation === 'docker') process.env.PATH = `${FAKE_DOCKER}:${savedPath}`;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
  });

  maybe('no attack reaches outside the run: files, checkout, other runs, tokens, network, processes', async () => {
    resetHost();
    const daemon = `${4000 + ++daemonSeq}.${process.pid}`; // unique to this run of the tests
    candidate({ bomb: 200, bombCap: 96, daemon });
    // the fork bomb holds both cores: in CI's clean clone (two test workers) its first step was still
    // in flight 2 s after the 1 s budget (a timeout, not a breach). What this test checks is the
    // containment; the stop rule has its own tests (test/trainer/harness.test.ts, attacks.test.ts)
    const r = await run({ ...mode, pidsLimit: 96, graceSeconds: 20 });

    expect(r.failure).toBeNull();
    expect(r.status).toBe('ok');
    expectHostUntouched();
    // the daemon died with the sandbox, not only the child that started it
    expect(sleepers(daemon)).toEqual([]);
  });

  if (mode.isolation === 'sandbox') {
    maybe('a grandchild holding memory over the cap stops the run (the cap covers the whole tree)', async () => {
      resetHost();
      candidate({ grandchildMb: 700 });
      // createModel waits for the grandchild to hold its memory, inside the 1 s budget: in CI's
      // clean clone (two test workers) that took past the budget and its 2 s grace, a timeout
      // before the cap was seen. What this test checks is the cap over the whole tree
      const r = await run({ ...mode, memoryMb: 600, graceSeconds: 20 });
      expect(r.failure?.kind).toBe('oom');
      expect(r.failure?.message).toMatch(/the process and its children used \d+ MB, over the memory cap of 600 MB/);
    });
  }
});

(root ? describe : describe.skip)('with isolation none (no defence)', () => {
  it('the same attacks succeed, and the daemon outlives the run', async () => {
    resetHost();
    const daemon = `${5000 + ++daemonSeq}.${process.pid}`;
    candidate({ bomb: 200, bombCap: 96, daemon });
    // the escapes run in createModel, inside the budget: a budget of 1 s plus 2 s of grace is too
    // short for 200 processes on a loaded machine (it ended as a timeout); the run ends at the throw
    const r = await run({ isolation: 'none', budgetSeconds: 30 });
    try {
      expect(r.failure?.kind).toBe('crash');
      for (const escape of [
        'read a host file',
        'hard-linked a host file',
        'wrote a host file',
        'chmod a host file',
        'wrote the checkout',
        'wrote node_modules',
        "wrote another run's checkpoint",
        'read the Brown corpus',
        'read a token from /proc/<pid>/environ',
        'reached a server on port',
        'ran as root',
        'started 200 processes',
      ]) {
        expect(r.failure?.message).toContain(escape);
      }
      expect(sleepers(daemon).length).toBeGreaterThan(0);
    } finally {
      for (const pid of sleepers(daemon)) process.kill(pid, 'SIGKILL');
    }
  });
});

// A runner is usually an ordinary user, so the candidate's uid is the Action's own and only the
// pid namespace keeps the job's runtime token (in the Action's environment) out of its reach.
(root ? describe : describe.skip)('as an ordinary user (the runner\'s own uid)', () => {
  const uid = 4242;
  function runAs(isolation: string, decoyToken: string): ExperimentResult {
    const outDir = mkdtempSync(join(tmp, 'out-user-'));
    chownSync(outDir, uid, uid);
    const decoyUser = spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', '-i', `ACTIONS_RUNTIME_TOKEN=${decoyToken}`, 'sleep', '600'], { stdio: 'ignore' });
    try {
      const cli = ['--import', 'tsx', 'trainer/cli.ts', '--isolation', isolation, '--budget', '1', '--backend', 'wasm', '--eval-bytes', '2048', '--out', outDir];
      spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', '-i', `PATH=${process.env.PATH}`, `HOME=${outDir}`, process.execPath, ...cli], { cwd: checkout, timeout: 240_000 });
      return JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as ExperimentResult;
    } finally {
      decoyUser.kill('SIGKILL');
    }
  }

  it('sandboxed, the candidate cannot read the token of a process of its own uid; unsandboxed it can', () => {
    resetHost();
    const userToken = `${token}-user`;
    candidate({ token: userToken });
    expect(runAs('sandbox', userToken)).toMatchObject({ status: 'ok', failure: null });
    expect(runAs('none', userToken).failure?.message).toContain('read a token from /proc/<pid>/environ');
  });
});

it('the sandbox works on this machine (bubblewrap and user namespaces; .ci/run installs bubblewrap)', () => {
  expect(sandboxProblem(repo)).toBeNull();
  expect(sandboxProblem(null)).toBeNull();
});
