// Loopback stand-ins for the CLI tests: a release server, an App, fake executables, and a
// runner package whose run.sh is a stub that records what it was given.
import { afterEach } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function tempDir(prefix = 'ars-runner-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Loopback {
  url: string;
  close(): Promise<void>;
}

/** Listen on a free loopback port. */
export async function listen(server: Server): Promise<Loopback> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A loopback server whose handler gets the whole request body. */
export function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Loopback> {
  return listen(
    createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => handler(req, res, body));
    }),
  );
}

/**
 * A stub of the GitHub Actions runner: run.sh appends what it saw to $HOME/stub.log (the job
 * number, its JIT config, argv, anything left by a previous job, a missing job-started hook,
 * any credential in its environment), then exits 0; from the third start on it waits for a signal instead.
 */
export const STUB_RUN_SH = `#!/bin/bash
n=$(( $(cat "$HOME/starts" 2>/dev/null || echo 0) + 1 )); echo $n > "$HOME/starts"
{
  echo "start $n jit=$ACTIONS_RUNNER_INPUT_JITCONFIG argv=[$*]"
  [ -e leftover ] && echo "leftover from a previous job"
  [ -x "\${ACTIONS_RUNNER_HOOK_JOB_STARTED:-}" ] || echo "no job-started hook"
  [ -n "\${AUTORESEARCH_ISOLATION:-}" ] && echo "isolation $AUTORESEARCH_ISOLATION"
  env | grep -iE 'token|secret' | sed 's/^/leaked: /'
} >> "$HOME/stub.log"
touch leftover
if [ "$n" -ge 3 ]; then
  trap 'echo "job $n got SIGINT" >> "$HOME/stub.log"; exit 130' INT
  echo "job $n running" >> "$HOME/stub.log"
  while true; do sleep 0.1; done
fi
exit 0
`;

/** A .tar.gz runner package with the stub run.sh, and its sha256. */
export function stubRunnerTarball(): { bytes: Buffer; sha256: string } {
  const dir = tempDir('ars-pkg-');
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'run.sh'), STUB_RUN_SH);
  chmodSync(join(pkg, 'run.sh'), 0o755);
  writeFileSync(join(pkg, 'bin', 'Runner.Listener'), 'not really a runner\n');
  execFileSync('tar', ['-czf', join(dir, 'runner.tar.gz'), '-C', pkg, '.']);
  const bytes = readFileSync(join(dir, 'runner.tar.gz'));
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** A directory of fake executables (name -> shell script body) to put on PATH. */
export function fakeBin(scripts: Record<string, string>): string {
  const dir = tempDir('ars-bin-');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

export const BIN = resolve('runner/bin.mjs');

/** The real CLI, as a volunteer runs it (`autoresearch-swarm runner ...`). */
export function cli(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { out: () => string } {
  const child = spawn(process.execPath, [BIN, 'runner', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  return Object.assign(child, { out: () => out });
}

/** Loopback servers and CLI processes a test starts: closed and killed after each test. */
export function startedPerTest(): { servers: Loopback[]; children: ChildProcess[] } {
  const started = { servers: [] as Loopback[], children: [] as ChildProcess[] };
  afterEach(async () => {
    for (const c of started.children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(started.servers.splice(0).map((s) => s.close()));
  });
  return started;
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (code) => r(code))));
}

export async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A JIT config as GitHub generates it (base64 JSON of the runner's config files, each base64):
 * `.runner` naming the repository and GitHub's Actions servers, `.credentials` and its RSA key.
 */
export function fakeJitConfig(name: string, repo: string, secret = 'the-runner-credential'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const server = 'https://pipelinesghubeus22.actions.githubusercontent.com/AbCdEf/';
  const files = {
    '.runner': JSON.stringify({ AgentId: 77, AgentName: name, PoolId: 1, PoolName: 'Default', ServerUrl: server, GitHubUrl: `https://github.com/${repo}`, WorkFolder: '_work', UseV2Flow: true, ServerUrlV2: 'https://broker.actions.githubusercontent.com/' }),
    '.credentials': JSON.stringify({ Scheme: 'OAuth', Data: { clientId: 'a1b2', authorizationUrl: `${server}_apis/oauth2/token`, requireFipsCryptography: 'False' } }),
    '.credentials_rsaparams': JSON.stringify({ d: secret, dp: 'x', dq: 'x', exponent: 'AQAB', inverseQ: 'x', modulus: 'x', p: 'x', q: 'x' }),
  };
  return b64(JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64(v)]))));
}
