// Escapes from the bubblewrap sandbox that test/trainer/containment.test.ts does not try, through
// the real CLI, supervisor and children (fixtures/containment/escapes.ts names each that works):
// - a descriptor the supervisor inherited without close-on-exec (here a host directory, opened by
//   the shell that starts the harness) must not reach the candidate, nor bubblewrap's pid 1;
// - (not asserted: still open) bubblewrap's pid 1 keeps the environment the supervisor hands it,
//   readable at /proc/1/environ; the supervisor passes only a short allow-list (PATH, HOME, LANG...),
//   so host paths leak but no credential. The fixture tries it when given envMarker;
// - an abstract unix socket of the host (network namespace, not file system) is out of reach;
// - no memory-backed file system but the bounded /tmp is writable: a file on the sandbox's root
//   or /dev tmpfs (half the host's memory each by default) is in no process's resident set, so
//   the memory cap would not see it. /dev/shm is a small bounded tmpfs.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  const cli = ['--import', 'tsx', 'trainer/cli.ts', '--isolation', 'sandbox', '--budget', '10', '--backend', 'wasm', '--eval-bytes', '2048', '--out', outDir];
  const r = spawnSync('bash', ['-c', 'exec 100<"$VOLUNTEER"; exec "$@"', 'bash', process.execPath, ...cli], {
    cwd: checkout,
    env: { PATH: process.env.PATH, HOME: envMarker, VOLUNTEER: join(tmp, 'volunteer') },
    encoding: 'utf8',
    timeout: 240_000,
  });
  try {
    return JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as ExperimentResult;
  } catch {
    throw new Error(`no result.json (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

maybe('no inherited descriptor, abstract socket or unbounded memory file system reaches the candidate', () => {
  candidate({ hostFileName: 'bashrc', hostText, envMarker: '', abstractSocket, fillMb: 96 });
  const r = runCli();
  expect(r.failure).toBeNull();
  expect(r.status).toBe('ok');
}, 300_000);
