// The App's runner route end to end: a real Probot instance with the route registered through
// registerRunnerRoutes, served on loopback; GitHub mocked with nock (every call checked against
// GitHub's OpenAPI description); the ledger in memory.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import nock from 'nock';
import type { Probot } from 'probot';
import { expectRealGitHubCalls, gitHubApi, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { OwnerRateLimiter, decideRegistration } from '../../app/routes/runners.js';
import { SECRET_JIT, USER_TOKEN, jitRequests, mockInstallation, mockJit, mockRunners, mockTokenIsTheApps, mockWhoAmI, startRunnerApp, testProbot } from './app-fixture.js';
import { MemoryLedgerStore, type LedgerStore } from '../../ledger/index.js';
import { JIT_CONFIG_PATH, RunnerSettings } from '../../runner/protocol.js';

let app: { url: string; close: () => Promise<void> };
let ledger: MemoryLedgerStore;

async function startApp(opts: { limiter?: OwnerRateLimiter; ledger?: LedgerStore; adminApp?: Probot } = {}): Promise<void> {
  app = await startRunnerApp({ ledger: opts.ledger ?? ledger, limiter: opts.limiter, adminApp: opts.adminApp });
}

function ask(token: string | null, body: unknown = { repo: 'acme/swarm', hardware_class: 'gpu-rtx-4090-24gb' }) {
  return fetch(app.url + JIT_CONFIG_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  resetRecordedCalls();
  jitRequests.length = 0;
  ledger = new MemoryLedgerStore();
  await startApp();
});
afterEach(async () => {
  await app.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('POST /autoresearch/runners/jitconfig', () => {
  it('gives an authenticated volunteer a JIT config labelled with its class and owner, and records it in the ledger', async () => {
    mockWhoAmI('Octocat');
    mockInstallation();
    mockRunners([{ name: 'someone-else', status: 'online', labels: ['self-hosted', 'owner-hubot'] }, { name: 'old', status: 'offline', labels: ['owner-octocat'] }]);
    mockJit();
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const labels = ['self-hosted', 'autoresearch', 'gpu-rtx-4090-24gb', 'owner-octocat'];
    expect(await res.json()).toEqual({ runner_name: 'ars-octocat-0001', runner_id: 77, labels, encoded_jit_config: SECRET_JIT });
    expect(jitRequests).toEqual([{ name: 'ars-octocat-0001', runner_group_id: 1, labels, work_folder: '_work' }]);
    const entries = await ledger.read();
    expect(entries.map((e) => [e.type, e.data])).toEqual([
      ['runner_registered', { runner_name: 'ars-octocat-0001', owner: 'Octocat', hardware_class: 'gpu-rtx-4090-24gb', labels, registered_by: 'route', owner_created_at: '2015-01-01T00:00:00Z', owner_id: 1 }],
    ]);
    expect(JSON.stringify(entries)).not.toContain(SECRET_JIT);
    expectRealGitHubCalls();
    expect(nock.pendingMocks()).toEqual([]);
    expect(recordedCalls()).toEqual([
      'POST /applications/{client_id}/token',
      'GET /user',
      'GET /repos/{owner}/{repo}/installation',
      'POST /app/installations/{installation_id}/access_tokens',
      'GET /repos/{owner}/{repo}/contents/{path}',
      'GET /repos/{owner}/{repo}/actions/runners',
      'POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig',
    ]);
  });

  it('answers a caller without a token 401 and asks GitHub nothing', async () => {
    const res = await ask(null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect((await res.json()).error).toMatch(/Authorization: Bearer/);
    expect(recordedCalls()).toEqual([]);
  });

  it('answers an invalid token 401 with no config, without touching the installation', async () => {
    mockTokenIsTheApps('octocat', 1, 'not-a-real-token');
    gitHubApi().get('/user').reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const res = await ask('not-a-real-token');
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text).error).toMatch(/did not accept your token/);
    expect(text).not.toContain('encoded_jit_config');
    expect(recordedCalls()).toEqual(['POST /applications/{client_id}/token', 'GET /user']);
    expect(await ledger.read()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('refuses a banned owner (case-insensitive) with 403 and mints nothing', async () => {
    mockWhoAmI('mallory');
    mockInstallation();
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(403);
    expect((await res.json()).error).toMatch(/mallory is not allowed.*runners\.banned/);
    expect(jitRequests).toEqual([]);
    expect(await ledger.read()).toEqual([]);
    expect(nock.pendingMocks()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('refuses an account younger than runners.min_account_age_days, and an owner the ledger banned, with 403', async () => {
    mockWhoAmI('fresh-sock', new Date(Date.now() - 3 * 86_400_000).toISOString());
    mockInstallation();
    const young = await ask(USER_TOKEN);
    expect(young.status).toBe(403);
    expect((await young.json()).error).toMatch(/fresh-sock's GitHub account is 3 days old; the swarm counts runners of accounts at least 30 days old/);
    await ledger.append([{ type: 'owner_banned', data: { login: 'Saboteur', reason: '2 faults, the last on job j9' } }]);
    mockWhoAmI('saboteur');
    const banned = await ask(USER_TOKEN);
    expect(banned.status).toBe(403);
    expect((await banned.json()).error).toMatch(/saboteur is banned by the ledger \(2 faults, the last on job j9\)/);
    expect(jitRequests).toEqual([]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('refuses an owner whose runners keep giving jobs back (off pace) with 429 until the oldest is an hour old', async () => {
    const t = Date.now();
    const back = (minutesAgo: number) => ({ type: 'result_recorded' as const, time: new Date(t - minutesAgo * 60_000).toISOString(), data: { job_id: `j${minutesAgo}`, role: 'candidate' as const, pr: 1, sha: 'a'.repeat(40), title: null, author: null, runner_name: 'r', runner_owner: 'octocat', run_url: null, validated: false, reason: 'off pace before training', result: { status: 'off_pace' } as any, diff_path: null, diff_sha256: null, log_excerpt: null } });
    await app.close();
    await startApp({ ledger: new MemoryLedgerStore([back(50), back(20), back(5)].map((e, seq) => ({ seq, prev: '', hash: '', ...e }) as any)) });
    mockWhoAmI('octocat');
    mockInstallation();
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(590);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    expect((await res.json()).error).toMatch(/octocat's runners gave 3 jobs back in the last hour .*free the machine of other load/);
    expect(jitRequests).toEqual([]);
  });

  it('refuses an owner already at the runner limit with 429', async () => {
    mockWhoAmI('octocat');
    mockInstallation();
    mockRunners([
      { name: 'a', status: 'online', labels: ['self-hosted', 'autoresearch', 'owner-octocat'] },
      { name: 'b', status: 'online', labels: ['self-hosted', 'autoresearch', 'OWNER-OCTOCAT'] },
    ]);
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect((await res.json()).error).toMatch(/already has 2 runners online, the limit per owner is 2/);
    expect(jitRequests).toEqual([]);
    expect(await ledger.read()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('rate-limits one owner across requests', async () => {
    await app.close();
    let now = 1_000_000;
    await startApp({ limiter: new OwnerRateLimiter(3_600_000, () => now) });
    const yaml = 'runners:\n  registrations_per_hour: 1\n';
    mockWhoAmI('octocat');
    mockInstallation(yaml);
    mockRunners([]);
    mockJit();
    expect((await ask(USER_TOKEN)).status).toBe(201);
    now += 600_000; // ten minutes later
    mockWhoAmI('octocat'); // the installation id and the config are still cached: one call
    const second = await ask(USER_TOKEN);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('3000');
    expect((await second.json()).error).toMatch(/1 runner configs in the last hour, the limit is 1: wait 3000 s/);
    expect(jitRequests).toHaveLength(1);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('reports a GitHub refusal (missing Administration permission) as 502 and records nothing', async () => {
    mockWhoAmI('octocat');
    mockInstallation();
    mockRunners([]);
    mockJit({ status: 403 });
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(502);
    expect((await res.json()).error).toMatch(/HTTP 403.*Administration \(read and write\) permission/);
    expect(await ledger.read()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('takes the runner back when the ledger cannot record it', async () => {
    await app.close();
    const broken: LedgerStore = { read: async () => [], append: async () => Promise.reject(new Error('git ref moved 5 times')) };
    await startApp({ ledger: broken });
    mockWhoAmI('octocat');
    mockInstallation();
    mockRunners([]);
    mockJit();
    gitHubApi().delete('/repos/acme/swarm/actions/runners/77').reply(204);
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain(SECRET_JIT);
    expect(nock.pendingMocks()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('mints and counts runners with a separate runner-admin App when one is configured', async () => {
    await app.close();
    await startApp({ adminApp: testProbot(456) });
    mockWhoAmI('octocat');
    mockInstallation(); // the main App: config and ledger
    const api = gitHubApi();
    api.get('/repos/acme/swarm/installation').reply(200, { id: 43 });
    api.post('/app/installations/43/access_tokens').reply(201, { token: 'ghs_admin', expires_at: '2099-01-01T00:00:00Z' });
    api.get('/repos/acme/swarm/actions/runners').query({ per_page: '100' }).matchHeader('authorization', 'token ghs_admin').reply(200, { total_count: 0, runners: [] });
    mockJit({ token: 'ghs_admin' });
    const res = await ask(USER_TOKEN);
    expect(res.status).toBe(201);
    expect((await res.json()).encoded_jit_config).toBe(SECRET_JIT);
    expect((await ledger.read()).map((e) => e.type)).toEqual(['runner_registered']);
    expect(nock.pendingMocks()).toEqual([]);
    expectRealGitHubCalls();
  });

  it('refuses a banned owner who renamed the GitHub account (a login changes, the account id does not)', async () => {
    mockWhoAmI('saboteur', undefined, 1001);
    mockInstallation();
    mockRunners([]);
    mockJit({ name: 'ars-saboteur-0001' });
    expect((await ask(USER_TOKEN)).status).toBe(201);
    await ledger.append([{ type: 'owner_banned', data: { login: 'saboteur', reason: '2 faults, the last on job j9' } }]);
    // the same account, renamed on github.com/settings/admin: a fresh login with no ban
    mockWhoAmI('innocent-newcomer', undefined, 1001);
    mockRunners([]);
    mockJit({ name: 'ars-innocent-newcomer-0002' });
    const renamed = await ask(USER_TOKEN);
    expect(renamed.status).toBe(403);
    expect((await renamed.json()).error).toMatch(/innocent-newcomer is not allowed.*the GitHub account registered runners as saboteur, who is banned by the ledger \(2 faults/);
    expect(jitRequests).toHaveLength(1);
    expect((await ledger.read()).filter((e) => e.type === 'runner_registered')).toHaveLength(1);
  });

  it('refuses a login another GitHub account registered runners under (a renamed owner’s login taken over: its credits and trust are not the new account’s)', async () => {
    mockWhoAmI('alice', undefined, 7);
    mockInstallation();
    mockRunners([]);
    mockJit({ name: 'ars-alice-0001' });
    expect((await ask(USER_TOKEN)).status).toBe(201);
    // alice renamed her account; someone else signs up as "Alice"
    mockWhoAmI('Alice', undefined, 666);
    mockRunners([]);
    mockJit({ name: 'ars-alice-0002' });
    const taken = await ask(USER_TOKEN);
    expect(taken.status).toBe(403);
    expect((await taken.json()).error).toMatch(/Alice is not allowed.*runners were registered as alice by another GitHub account \(id 7\)/);
    expect(jitRequests).toHaveLength(1);
  });

  it('rejects a malformed request with one clear 400', async () => {
    const res = await ask(USER_TOKEN, { repo: 'acme/swarm', hardware_class: 'GPU <script>' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/hardware_class: a hardware class such as/);
    expect(recordedCalls()).toEqual([]);
  });

  it('is not served for other methods or paths', async () => {
    expect((await fetch(app.url + JIT_CONFIG_PATH, { headers: { authorization: `Bearer ${USER_TOKEN}` } })).status).toBe(405);
    expect((await fetch(app.url + '/autoresearch/other', { method: 'POST' })).status).toBe(404);
  });
});

describe('decideRegistration', () => {
  const policy = RunnerSettings.parse({ banned: ['Eve'], max_per_owner: 1, registrations_per_hour: 5 });
  const ok = { login: 'alice', policy, onlineRunners: 0, recentRegistrations: 0, retryAfterSeconds: 0 };
  it('allows an owner under every limit and refuses each limit with its own reason', () => {
    expect(decideRegistration(ok)).toEqual({ ok: true });
    expect(decideRegistration({ ...ok, login: 'EVE' })).toMatchObject({ ok: false, status: 403 });
    expect(decideRegistration({ ...ok, onlineRunners: 1 })).toMatchObject({ ok: false, status: 429, error: expect.stringMatching(/runners online/) });
    expect(decideRegistration({ ...ok, recentRegistrations: 5, retryAfterSeconds: 12 })).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 12 });
    expect(decideRegistration({ ...ok, givingBack: { count: 3, retryAfterSeconds: 600 } })).toEqual({
      ok: false,
      status: 429,
      retryAfterSeconds: 600,
      error: "alice's runners gave 3 jobs back in the last hour (the machine was below its class's pace before training; the limit is 3, and more than it ran): wait 600 s, and free the machine of other load before it takes jobs again",
    });
  });

  // Before: an account that registered runners as alice and renamed itself got new runners under
  // its second login (their results were refused at intake only, ledger/trust.ts firstLoginOf: the
  // App kept sending verify runs to owner-<second login>, refused and sent again), and an account
  // listed by id in runners.allow was refused (the route checked the lists by login only).
  it('refuses an account a second login, and reads runners.allow and runners.banned by account id', () => {
    const identity = { id: 5, registered: [{ owner: 'alice', owner_id: 5 }] };
    expect(decideRegistration({ ...ok, login: 'alice-2', identity })).toMatchObject({ ok: false, status: 403, error: expect.stringMatching(/registered runners as alice first.*rename the account back to alice/) });
    expect(decideRegistration({ ...ok, identity })).toEqual({ ok: true });
    const byId = RunnerSettings.parse({ allow: ['id:7'], banned: ['id:666'], max_per_owner: 1 });
    expect(decideRegistration({ ...ok, login: 'newname', policy: byId, identity: { id: 7, registered: [] } })).toEqual({ ok: true });
    expect(decideRegistration({ ...ok, login: 'other', policy: byId, identity: { id: 8, registered: [] } })).toMatchObject({ ok: false, status: 403 });
    const banned = RunnerSettings.parse({ banned: ['id:666'], max_per_owner: 1 });
    expect(decideRegistration({ ...ok, login: 'fresh-login', policy: banned, identity: { id: 666, registered: [] } })).toMatchObject({ ok: false, status: 403, error: expect.stringMatching(/banned/) });
  });
});
