// The probe's promise, "no process sees a probe and its original", holds only while the two eval
// children cannot talk to each other. Through the real CLI and the bubblewrap sandbox, the scored
// child hands the probe child every window it sees (fixtures/containment/sibling-leak.ts), and a
// model that looks one byte ahead would then pass the probe and score:
// - 'flock': advisory locks on files both sandboxes read. It works while both children live: the
//   probe child used to start (and run the candidate's code) during the scored pass;
// - 'keyring': a key left in the session keyring every child inherits from the supervisor, as
//   systemd gives each service one (KeyringMode=private; the runner here joins a fresh one the same
//   way). It outlives the child that wrote it, so no order of the children stops it;
// - 'pagecache': one bit a page of files both read, evicted or read in by the scored child and
//   probed unread by the probe child (preadv2 RWF_NOWAIT): outlives the child too.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentResult } from '../../trainer/result.js';
import { sandboxProblem } from '../../trainer/sandbox.js';
import { copyCheckout } from './run-harness.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) then exec: the runner's process with its own session keyring */
const JOIN_SESSION = 'syscall(250, 1, 0) > 0 or die "keyctl: $!\\n"; exec @ARGV or die';
const keyrings = process.arch === 'x64' && existsSync('/usr/bin/perl') && spawnSync('/usr/bin/perl', ['-e', JOIN_SESSION, 'true']).status === 0;
const available = sandboxProblem(repo) === null && existsSync('/usr/bin/perl');

let checkout: string;

beforeAll(() => {
  checkout = copyCheckout('red-team-siblings-');
  chmodSync(checkout, 0o755); // as a runner's work folder: the sandbox's own uid reads the checkout
});

afterAll(() => {
  if (checkout) rmSync(checkout, { recursive: true, force: true });
});

function runCli(channel: string, evalBytes = 4096): ExperimentResult {
  const text = readFileSync(join(repo, 'test', 'trainer', 'fixtures', 'containment', 'sibling-leak.ts'), 'utf8');
  const line = /^const CHANNEL = .*\/\/ CHANNEL$/m;
  expect(text).toMatch(line);
  writeFileSync(join(checkout, 'trainer', 'train.ts'), text.replace(line, `const CHANNEL = ${JSON.stringify(channel)} as 'flock' | 'keyring' | 'pagecache';`));
  const outDir = mkdtempSync(join(checkout, 'out-'));
  const cli = [process.execPath, '--import', 'tsx', 'trainer/cli.ts', '--isolation', 'sandbox', '--budget', '0.5', '--backend', 'wasm', '--eval-bytes', String(evalBytes), '--out', outDir];
  const argv = keyrings ? ['/usr/bin/perl', '-e', JOIN_SESSION, ...cli] : cli;
  const r = spawnSync(argv[0], argv.slice(1), { cwd: checkout, env: { PATH: process.env.PATH, HOME: checkout, LANG: 'C.UTF-8' }, encoding: 'utf8', timeout: 240_000 });
  try {
    return JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as ExperimentResult;
  } catch {
    throw new Error(`no result.json (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

describe('the eval children cannot hand the windows to each other', () => {
  (available ? it : it.skip)('through locks on files both can read: the probe child runs no candidate code while the scored child lives', () => {
    const r = runCli('flock');
    expect(r.val_bpb).toBeNull();
    expect(r.failure?.kind).toBe('non_causal');
  }, 300_000);

  (available && keyrings ? it : it.skip)('through the session keyring the children inherit: the sandbox refuses keyrings', () => {
    const r = runCli('keyring');
    expect(r.val_bpb).toBeNull();
    expect(r.failure?.kind).toBe('non_causal');
  }, 300_000);

  // 32 windows of 32 bytes, one bit a page: 33 MB of files no process on the machine reads
  (available && process.arch === 'x64' ? it : it.skip)('through the page cache of files both can read: the sandbox refuses evicting pages and probing them unread', () => {
    const r = runCli('pagecache', 1024);
    expect(r.val_bpb).toBeNull();
    expect(r.failure?.kind).toBe('non_causal');
  }, 300_000);
});
