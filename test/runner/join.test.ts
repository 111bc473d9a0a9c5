// `runner join` end to end against a fake App and a fake release server on loopback: the stub
// runner runs one job per JIT config, twice, then a Ctrl-C stops the third job and the loop.
import { describe, it, expect, afterEach } from '@jest/globals';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JoinLoop } from '../../runner/join-loop.js';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';
import { cli, exitOf, fakeBin, fakeJitConfig, serve, stubRunnerTarball, tempDir, until, type Loopback } from './fakes.js';

const pkg = stubRunnerTarball();
/** the n-th JIT config the fake App hands out (GitHub's format: runner join checks it) */
const jit = (n: number) => fakeJitConfig(`ars-octocat-${n}`, 'acme/swarm', `jit-config-${n}`);
const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface AppCall {
  authorization: string | undefined;
  body: unknown;
}

async function fakeApp(respond: 'jit' | 'never'): Promise<{ url: string; calls: AppCall[] }> {
  const calls: AppCall[] = [];
  const app = await serve((req, res, body) => {
    if (req.method !== 'POST' || req.url !== JIT_CONFIG_PATH) return void res.writeHead(404).end();
    calls.push({ authorization: req.headers.authorization, body: JSON.parse(body) });
    if (respond === 'never') return; // hangs, like a slow App
    const n = calls.length;
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({ runner_name: `ars-octocat-${n}`, runner_id: n, labels: ['self-hosted', 'autoresearch', 'cpu-x', 'owner-octocat'], encoded_jit_config: jit(n) }),
    );
  });
  servers.push(app);
  return { url: app.url, calls };
}

async function releaseServer(): Promise<string> {
  const s = await serve((req, res) => (req.url === '/runner.tar.gz' ? res.writeHead(200).end(pkg.bytes) : res.writeHead(404).end()));
  servers.push(s);
  return `${s.url}/runner.tar.gz`;
}

function join_(appUrl: string, runnerUrl: string, home: string) {
  // no usable Docker here, and a bubblewrap that user namespaces are denied to
  const bin = fakeBin({ docker: 'exit 1', bwrap: 'echo "bwrap: setting up uid map: Permission denied" >&2; exit 1' });
  return cli(
    ['join', '--repo', 'acme/swarm', '--app-url', appUrl, '--image', 'x', '--runner-url', runnerUrl, '--runner-sha256', pkg.sha256, '--cache-dir', join(home, 'cache'), '--allow-unisolated'],
    // credentials in the volunteer's environment must not reach the runner or its jobs
    { PATH: `${bin}:/usr/bin:/bin`, HOME: home, AUTORESEARCH_GITHUB_TOKEN: 'github_pat_volunteer', GITHUB_TOKEN: 'ghp_must_not_leak', AWS_SECRET_ACCESS_KEY: 'must-not-leak' },
  );
}

describe('runner join', () => {
  it('runs one job per JIT config in a fresh runner copy, loops, and stops the running job on Ctrl-C', async () => {
    const app = await fakeApp('jit');
    const home = tempDir();
    const child = join_(app.url, await releaseServer(), home);
    const log = () => (existsSync(join(home, 'stub.log')) ? readFileSync(join(home, 'stub.log'), 'utf8') : '');
    await until('the third job to start', () => log().includes('job 3 running') || child.exitCode !== null);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);

    expect(log().trim().split('\n')).toEqual([
      `start 1 jit=${jit(1)} argv=[]`,
      'isolation none', // --allow-unisolated: the Action may run the candidate so, and says so
      `start 2 jit=${jit(2)} argv=[]`,
      'isolation none',
      `start 3 jit=${jit(3)} argv=[]`,
      'isolation none',
      'job 3 running',
      'job 3 got SIGINT',
    ]);
    expect(app.calls).toHaveLength(3);
    for (const c of app.calls) {
      expect(c.authorization).toBe('Bearer github_pat_volunteer');
      expect(c.body).toEqual({ repo: 'acme/swarm', hardware_class: expect.stringMatching(/^(cpu|gpu)-/) });
    }
    const out = child.out();
    expect(out).toContain('WARNING: --allow-unisolated');
    expect(out).toContain('Stopping: cancelling the running job');
    expect(out).toContain('Stopped after 3 jobs.');
    for (const n of [1, 2, 3]) expect(out).not.toContain(jit(n)); // the runner credential is never printed
    // the verified package stays cached; no job directory survives
    expect(readdirSync(join(home, 'cache')).sort()).toEqual([`actions-runner-custom-${pkg.sha256.slice(0, 12)}`, 'jobs']);
    expect(readdirSync(join(home, 'cache', 'jobs'))).toEqual([]);
  });

  it('stops at once on Ctrl-C between jobs (while waiting for the App)', async () => {
    const app = await fakeApp('never');
    const home = tempDir();
    const child = join_(app.url, await releaseServer(), home);
    await until('the first request to the App', () => app.calls.length === 1 || child.exitCode !== null);
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(child.out()).toContain('Stopping: no job is running.');
    expect(child.out()).toContain('Stopped after 0 jobs.');
    expect(existsSync(join(home, 'stub.log'))).toBe(false);
  });

  it('Ctrl-C during the runner download removes the partial file and caches nothing', async () => {
    let requested = false;
    const stalled = await serve((_req, res) => {
      requested = true;
      res.writeHead(200);
      res.write(pkg.bytes.subarray(0, 100)); // then nothing more
    });
    servers.push(stalled);
    const home = tempDir();
    const child = join_('http://127.0.0.1:9', `${stalled.url}/runner.tar.gz`, home);
    await until('the download to start', () => (requested && existsSync(join(home, 'cache')) && readdirSync(join(home, 'cache')).length > 0) || child.exitCode !== null);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(2);
    expect(child.out()).toContain('error: the runner download was stopped; nothing was cached');
    expect(readdirSync(join(home, 'cache'))).toEqual([]);
  });

  it('refuses to run jobs outside a container unless the volunteer says so', async () => {
    const home = tempDir();
    const child = cli(['join', '--repo', 'acme/swarm', '--app-url', 'http://127.0.0.1:9', '--image', 'x', '--cache-dir', home], { PATH: fakeBin({ docker: 'exit 1' }), HOME: home, AUTORESEARCH_GITHUB_TOKEN: 't' });
    expect(await exitOf(child)).toBe(2);
    expect(child.out()).toMatch(/error: Neither Docker nor the bubblewrap sandbox is usable here, so jobs could not contain the candidate.*pass --allow-unisolated/);
  });
});

describe('JoinLoop and the App’s answers', () => {
  it('waits as long as the App’s Retry-After says, then runs the job; stops with the App’s reason on a refusal', async () => {
    const answers: [number, object, Record<string, string>][] = [
      [429, { error: 'octocat asked for 60 runner configs in the last hour, the limit is 60: wait 1 s' }, { 'retry-after': '1' }],
      [201, { runner_name: 'ars-octocat-1', runner_id: 1, labels: [], encoded_jit_config: fakeJitConfig('ars-octocat-1', 'acme/swarm') }, {}],
      [403, { error: 'octocat is not allowed to run jobs for this swarm' }, {}],
    ];
    const times: number[] = [];
    const app = await serve((_req, res) => {
      times.push(Date.now());
      const [status, body, headers] = answers.shift()!;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    });
    servers.push(app);
    const runnerDir = tempDir();
    writeFileSync(join(runnerDir, 'run.sh'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(runnerDir, 'run.sh'), 0o755);
    const log: string[] = [];
    const loop = new JoinLoop({ appUrl: app.url, repo: 'acme/swarm', hardwareClass: 'cpu-x', auth: { token: 't', source: 'test', renew: null }, runnerDir, workRoot: tempDir(), log: (l) => log.push(l) });
    await expect(loop.run()).rejects.toThrow('the App refused (HTTP 403): octocat is not allowed to run jobs for this swarm');
    expect(loop.jobs).toBe(1);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1000);
    expect(log).toContain('the App refused (HTTP 429): octocat asked for 60 runner configs in the last hour, the limit is 60: wait 1 s; asking again in 1 s.');
    expect(log).toContain('Runner ars-octocat-1 finished (exit code 0).');
  });
});
