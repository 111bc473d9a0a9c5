// Escapes from the bubblewrap sandbox that test/trainer/containment.test.ts does not try, through
// the real CLI, supervisor and children (fixtures/containment/escapes.ts names each that works):
// - a descriptor the supervisor inherited without close-on-exec (here a host directory, opened by
//   the shell that starts the harness) must not reach the candidate, nor bubblewrap's pid 1;
// - no process in the sandbox has a variable outside the child's allow-list or a value of the
//   supervisor's (bubblewrap's pid 1 once kept the environment it was started with, its
//   /proc/1/environ readable: the host's HOME, PATH and any other variable of the supervisor's);
// - an abstract unix socket of the host (network namespace, not file system) is out of reach;
// - no memory-backed file system but the bounded /tmp is writable: a file on the sandbox's root
//   or /dev tmpfs (half the host's memory each by default) is in no process's resident set, so
//   the memory cap would not see it. /dev/shm is a small bounded tmpfs;
// - no memory outside every resident set through system calls (perl in /usr reaches any): SysV
//   shared memory written and detached, and SysV message queues, are refused (a seccomp filter);
// - a memfd written and never mapped, and shared anonymous memory that children wrote 64 MiB at a
//   time (each exits: no resident set holds more) and their parent maps, count toward the cap;
// - no memory queued in unix sockets beyond what 1,024 descriptors at the default buffer size hold
//   (a pair held 8 MB with its buffers raised on a host whose wmem_max allows it, and node lifts
//   the descriptor limit to the hard one: 20,000 here, 1,048,576 on Ubuntu);
// - sockets count toward the cap (1 GB queued by 8 processes, each under its descriptor limit);
// - files of the sandbox's /tmp and /dev/shm count toward the cap, their inodes too (800,000
//   empty files: no blocks, so bubblewrap's size limit never applies);
// - page tables count toward the cap: a 1 TB mapping read once every 2 MiB holds 2 GB of them
//   with a 10 MB resident set (the shared zero page).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentResult } from '../../trainer/result.js';
import { sandboxProblem } from '../../trainer/sandbox.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const available = sandboxProblem(repo) === null;
const maybe = available ? it : it.skip;

let tmp: string;
let checkout: string;
let server: Server;
const abstractSocket = `red-team-${process.pid}-${Date.now()}`;
const hostText = `volunteer-bashrc-${process.pid}`;
const envMarker = `/home/volunteer-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'red-team-containment-'));
  chmodSync(tmp, 0o755); // as a runner's work folder: the sandbox's own uid reads the checkout
  checkout = join(tmp, 'checkout');
  mkdirSync(checkout);
  cpSync(join(repo, 'trainer'), join(checkout, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(repo, f), join(checkout, f));
  symlinkSync(join(repo, 'node_modules'), join(checkout, 'node_modules'));
  mkdirSync(join(tmp, 'volunteer'), { mode: 0o755 });
  writeFileSync(join(tmp, 'volunteer', 'bashrc'), `${hostText}\n`, { mode: 0o644 });
  server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(`\0${abstractSocket}`, r));
});

afterAll(() => {
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function candidate(targets: Record<string, unknown>): void {
  const text = readFileSync(join(repo, 'test', 'trainer', 'fixtures', 'containment', 'escapes.ts'), 'utf8');
  const line = /^const TARGETS: Targets = .*\/\/ TARGETS$/m;
  expect(text).toMatch(line);
  writeFileSync(join(checkout, 'trainer', 'train.ts'), text.replace(line, `const TARGETS: Targets = ${JSON.stringify(targets)};`));
}

/** The CLI as a runner starts it, from a shell that holds the volunteer's directory open on fd 100
 * (no close-on-exec, as any descriptor a parent forgets to close; node itself marks only its lowest descriptors close-on-exec), with HOME as a marker. */
function runCli(): ExperimentResult {
  const outDir = mkdtempSync(join(tmp, 'out-'));
  const cli = ['--import', 'tsx', 'trainer/cli.ts', '--isolation', 'sandbox', '--budget', '10', '--backend', 'wasm', '--eval-bytes', '2048', '--memory-mb', '600', '--out', outDir];
  const r = spawnSync('bash', ['-c', 'exec 100<"$VOLUNTEER"; exec "$@"', 'bash', process.execPath, ...cli], {
    cwd: checkout,
    env: { PATH: process.env.PATH, HOME: envMarker, VOLUNTEER: join(tmp, 'volunteer'), LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  try {
    return JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as ExperimentResult;
  } catch {
    throw new Error(`no result.json (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

maybe('no inherited descriptor, host environment, abstract socket or memory outside the cap reaches the candidate', () => {
  // the memory attacks need perl, which every Debian/Ubuntu has (perl-base is essential)
  expect(existsSync('/usr/bin/perl')).toBe(true);
  // 768 MB of SysV shared memory, over the 600 MB cap of the run; 256 MB in message queues
  // and 768 MB queued in unix socket pairs (kernel memory: no resident set holds it)
  candidate({ hostFileName: 'bashrc', hostText, envMarker, abstractSocket, fillMb: 96, shmMb: 768, msgMb: 256, sockMb: 768 });
  const r = runCli();
  expect(r.failure).toBeNull();
  expect(r.status).toBe('ok');
}, 300_000);

const root = process.getuid?.() === 0;
describe.each([
  ['shared anonymous memory that no resident set holds', { sharedMb: 768 }, true],
  ['a memfd written and never mapped', { memfdMb: 768 }, true],
  // no process maps more than 64 MiB of it at any time: the whole object's size is read through
  // /proc/<pid>/map_files, which only a root supervisor may follow (docs/runners.md)
  ['shared anonymous memory that no process maps more than 64 MB of', { sharedMb: 768, onePage: true }, root],
  // page tables of a 1 TB read-only mapping read every 2 MiB: 2 GB held with a 10 MB resident set
  ['page tables (the zero page mapped every 2 MiB of 1 TB)', { pteGb: 1024 }, true],
  // 1 GB in socket pairs held by 8 processes (the descriptor limit is each process's): every socket of the sandbox counts
  ['unix socket pairs held by 8 processes', { sockMb: 1024, sockProcs: 8 }, true],
  // 800,000 empty files in /tmp (~0.7 GB of inodes and dentries; the tmpfs caps bytes, not files)
  ['empty files in the sandbox\'s /tmp', { filesK: 800 }, true],
])('%s counts toward the cap', (_name, attack, where) => {
  (where ? maybe : it.skip)('the run ends over the cap (the candidate holds it for 4 s, and says so if not stopped)', () => {
    expect(existsSync('/usr/bin/perl')).toBe(true);
    candidate({ hostFileName: 'bashrc', hostText, envMarker: '', abstractSocket, fillMb: 0, ...attack });
    const r = runCli();
    expect(r.failure?.kind).toBe('oom');
    expect(r.failure?.message).toMatch(/over the memory cap of 600 MB/);
  }, 300_000);
});
