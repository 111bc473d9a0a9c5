// Red team, the runner route (app/routes/runners.ts): a runner owner who wants more runners than
// `runners.max_per_owner`. The limit counted the owner's runners GitHub lists as online, and a JIT
// config the route minted is listed offline until its runner starts: an owner who asked for configs
// one after another without starting them was never at the limit, and could start them all at once
// (60 an hour under registrations_per_hour), taking most of its class's first runs and retries.
import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { gitHubApi } from '../helpers/openapi.js';
import { jitRequests, mockInstallation, mockJit, mockRunners, mockWhoAmI, startRunnerApp, USER_TOKEN } from '../runner/app-fixture.js';
import { appendEntries, MemoryLedgerStore } from '../../ledger/index.js';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';

let app: { url: string; close: () => Promise<void> };
let ledger: MemoryLedgerStore;

const ask = () =>
  fetch(app.url + JIT_CONFIG_PATH, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${USER_TOKEN}` }, body: JSON.stringify({ repo: 'acme/swarm', hardware_class: 'gpu-rtx-4090-24gb' }) });
const labels = ['self-hosted', 'autoresearch', 'gpu-rtx-4090-24gb', 'owner-octocat'];

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  jitRequests.length = 0;
  ledger = new MemoryLedgerStore();
  app = await startRunnerApp({ ledger });
});
afterEach(async () => {
  await app.close();
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('runners.max_per_owner (2 here)', () => {
  it('counts the runners the route minted that have not started yet: a third config is refused while two wait offline', async () => {
    const minted: { name: string; status: string; labels: string[] }[] = [];
    for (const n of [1, 2]) {
      mockWhoAmI('octocat');
      if (n === 1) mockInstallation();
      mockRunners([...minted]);
      mockJit({ name: `ars-octocat-000${n}`, id: 70 + n });
      expect((await ask()).status).toBe(201);
      minted.push({ name: `ars-octocat-000${n}`, status: 'offline', labels }); // never started
    }
    mockWhoAmI('octocat');
    mockRunners(minted);
    const res = await ask();
    expect(res.status).toBe(429);
    expect((await res.json()).error).toMatch(/already has 2 runners online, the limit per owner is 2 \(one asked for counts from then, for 10 minutes if it does not start\)/);
    expect(jitRequests).toHaveLength(2);
  });

  it('takes back a config minted over ten minutes ago that never started before minting another, so it cannot be started later', async () => {
    const ago = new Date(Date.now() - 11 * 60_000).toISOString();
    const reg = (name: string) => ({ type: 'runner_registered' as const, time: ago, data: { runner_name: name, owner: 'octocat', hardware_class: 'gpu-rtx-4090-24gb', labels, registered_by: 'route' as const, owner_created_at: '2015-01-01T00:00:00Z', owner_id: 1 } });
    await app.close();
    ledger = new MemoryLedgerStore(appendEntries([], [reg('ars-octocat-0001'), reg('ars-octocat-0002')]));
    app = await startRunnerApp({ ledger });
    mockWhoAmI('octocat');
    mockInstallation();
    // (a runner of the owner's the route did not mint, offline, is neither counted nor deleted)
    mockRunners([...['ars-octocat-0001', 'ars-octocat-0002'].map((name) => ({ name, status: 'offline', labels })), { name: 'fleet-1', status: 'offline', labels }]);
    gitHubApi().delete('/repos/acme/swarm/actions/runners/1').reply(204);
    gitHubApi().delete('/repos/acme/swarm/actions/runners/2').reply(204);
    mockJit({ name: 'ars-octocat-0003', id: 73 });
    expect((await ask()).status).toBe(201);
  });
});

describe('runners.give_backs_per_hour (3)', () => {
  // Attack: a job handed back with no result the App can score (no artifact, an unreadable one, a
  // harness error) costs its owner nothing but a few seconds, as a give-back off pace does; only
  // give-backs held an owner to the limit, so one whose runners took every job they could and handed
  // it back got a new runner for each, for ever (each such job waits a dispatch more).
  it('counts every job handed back unscored: an owner whose runners did only that gets no new runner for a while', async () => {
    const t = Date.now();
    const back = (minutesAgo: number, reason: string, result: unknown = null) => ({ type: 'result_recorded' as const, time: new Date(t - minutesAgo * 60_000).toISOString(), data: { job_id: `j${minutesAgo}`, role: 'candidate' as const, pr: 1, sha: 'a'.repeat(40), title: null, author: null, runner_name: 'r', runner_owner: 'octocat', run_url: null, validated: false, reason, result: result as never, diff_path: null, diff_sha256: null, log_excerpt: null } });
    await app.close();
    app = await startRunnerApp({ ledger: new MemoryLedgerStore(appendEntries([], [back(50, 'the artifact result-j50 holds no result.json'), back(20, 'the run uploaded no result-j20 artifact with a result.json'), back(5, 'result.json is not JSON')])) });
    mockWhoAmI('octocat');
    mockInstallation();
    const res = await ask();
    expect(res.status).toBe(429);
    expect((await res.json()).error).toMatch(/octocat's runners gave 3 jobs back in the last hour .*3 of them with no result the App could score.*run `runner doctor` and free the machine/);
    expect(jitRequests).toEqual([]);
  });
});

