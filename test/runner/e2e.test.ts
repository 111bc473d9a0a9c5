// The whole path a volunteer takes: the real CLI (`runner join`, a child process) asks the real
// App route (Probot, in this process) for JIT configs; the route asks GitHub (nock, checked
// against the OpenAPI description) and records each runner in the ledger; the runner package comes
// from a loopback release server, sha256-verified; the stub runner receives GitHub's config.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { MemoryLedgerStore, type LedgerEntry } from '../../ledger/index.js';
import { USER_TOKEN, jitRequests, mockInstallation, mockJit, mockRunners, mockWhoAmI, startRunnerApp } from './app-fixture.js';
import { cli, exitOf, fakeBin, fakeJitConfig, serve, stubRunnerTarball, tempDir, type Loopback } from './fakes.js';

const pkg = stubRunnerTarball();
let release: Loopback;
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  resetRecordedCalls();
  release = await serve((_req, res) => res.writeHead(200).end(pkg.bytes));
});
afterAll(async () => {
  await release.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('runner join → App route → GitHub → ledger', () => {
  it('registers one ledger-recorded runner per job for the token’s owner and hands each config to its runner', async () => {
    const ledger = new MemoryLedgerStore();
    const app = await startRunnerApp({ ledger });
    for (const n of [1, 2]) {
      mockWhoAmI('Octocat');
      if (n === 1) mockInstallation(); // then the route keeps the installation id and the config
      mockRunners([]);
      mockJit({ name: `ars-octocat-000${n}`, id: n, config: fakeJitConfig(`ars-octocat-000${n}`, 'acme/swarm', `github-jit-config-${n}`) });
    }
    const home = tempDir();
    const child = cli(
      ['join', '--repo', 'acme/swarm', '--app-url', app.url, '--image', 'x', '--max-jobs', '2', '--allow-unisolated',
        '--runner-url', `${release.url}/actions-runner.tar.gz`, '--runner-sha256', pkg.sha256, '--cache-dir', join(home, 'cache')],
      { PATH: `${fakeBin({ docker: 'exit 1' })}:/usr/bin:/bin`, HOME: home, AUTORESEARCH_GITHUB_TOKEN: USER_TOKEN },
    );
    const code = await exitOf(child);
    await app.close();
    expect(child.out()).toContain('Stopped after 2 jobs.');
    expect(code).toBe(0);

    const stub = readFileSync(join(home, 'stub.log'), 'utf8').trim().split('\n');
    expect(stub).toEqual([1, 2].map((n) => `start ${n} jit=${fakeJitConfig(`ars-octocat-000${n}`, 'acme/swarm', `github-jit-config-${n}`)} argv=[]`));

    const cls = jitRequests[0].labels[2];
    expect(cls).toMatch(/^(cpu|gpu)-/); // what doctor detected on this machine
    const labels = ['self-hosted', 'autoresearch', cls, 'owner-octocat'];
    expect(jitRequests).toEqual([1, 2].map((n) => ({ name: `ars-octocat-000${n}`, runner_group_id: 1, labels, work_folder: '_work' })));
    const entries = (await ledger.read()) as LedgerEntry<'runner_registered'>[];
    expect(entries.map((e) => [e.seq, e.type, e.data])).toEqual(
      [1, 2].map((n) => [n - 1, 'runner_registered', { runner_name: `ars-octocat-000${n}`, owner: 'Octocat', hardware_class: cls, labels, registered_by: 'route', owner_created_at: '2015-01-01T00:00:00Z', owner_id: 1 }]),
    );
    expectRealGitHubCalls();
    expect(nock.pendingMocks()).toEqual([]);
    // GitHub calls per job (the ledger store's own calls come on top: 3 with a warm head)
    const jobCalls = ['POST /applications/{client_id}/token', 'GET /user', 'GET /repos/{owner}/{repo}/actions/runners', 'POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig'];
    const firstOnly = ['GET /repos/{owner}/{repo}/installation', 'POST /app/installations/{installation_id}/access_tokens', 'GET /repos/{owner}/{repo}/contents/{path}'];
    expect(recordedCalls()).toEqual([...jobCalls.slice(0, 2), ...firstOnly, ...jobCalls.slice(2), ...jobCalls]);
  });
});
