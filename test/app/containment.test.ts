// Containment on the App's side: a score from an uncontained run counts only from a trusted
// fleet, and nothing is dispatched while a pull request's own workflow could reach the runners.
import { afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { forgetForkApprovalPolicies } from '../../app/github/fork-approval.js';
import { forkApprovalRefusal, uncontainedRefusal } from '../../app/policy/containment.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('fork pull request approval policy', () => {
  it('only "all external contributors" lets the App dispatch; an unreadable policy refuses', () => {
    expect(forkApprovalRefusal('all_external_contributors')).toBeNull();
    expect(forkApprovalRefusal('first_time_contributors')).toMatch(/anyone who has had a pull request merged before .* "Require approval for all external contributors"/);
    expect(forkApprovalRefusal('first_time_contributors_new_to_github')).toMatch(/not brand new/);
    expect(forkApprovalRefusal(null)).toMatch(/cannot read .*Administration: read/);
  });

  it('GitHub\'s default ("first-time contributors") dispatches nothing, and the check run says why; once fixed, the PR runs', async () => {
    const w = new World();
    w.gh.forkApproval = 'first_time_contributors';
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'queued', title: 'Queued' });
    expect(w.gh.checksOf(head)[0].summary).toMatch(/^Waiting: This repository runs pull request workflows of anyone who has had a pull request merged before without approval, so such a pull request could add a workflow that runs on the volunteers' self-hosted runners/);
    // each tick reads the policy again (at most once a minute) and keeps the queue waiting
    forgetForkApprovalPolicies();
    await w.tick();
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'queued', title: 'Not dispatched: runners unprotected' });

    w.gh.forkApproval = 'all_external_contributors';
    forgetForkApprovalPolicies(); // the App reads it again within a minute; the test does not wait
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'in_progress', title: 'Running' });
  });

  it('a long run asked for by issue is refused too, saying why', async () => {
    const w = new World();
    w.gh.forkApproval = 'first_time_contributors_new_to_github';
    const body = [
      ['What to run', 'main'.replace('main', w.main.slice(0, 7))],
      ['Training budget', '30 minutes'],
      ['Hardware class', '_No response_'],
      ['Most credits to spend', '5000'],
      ['Why', 'A longer baseline.'],
      ['Terms', '- [X] I understand the credits are spent when the run is dispatched, whatever its result.'],
    ]
      .map(([label, value]) => `### ${label}\n\n${value}`)
      .join('\n\n');
    await w.openIssue(41, 'alice', body);
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.stickyOf(41)[0]).toMatch(/### Long run refused[\s\S]*Not scheduled: This repository runs pull request workflows of anyone whose GitHub account is not brand new without approval/);
  });

  it('an App without the permission to read the policy dispatches nothing', async () => {
    const w = new World();
    w.gh.forkApproval = null;
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.dispatches).toEqual([]);
  });
});

describe('uncontained runs', () => {
  const result = (isolation: 'docker' | 'sandbox' | 'none') => ({ job: { isolation } }) as ExperimentResult;

  it('docker and sandbox count; none counts only from a fleet the config trusts', () => {
    const cfg = { trusted_fleets: ['Acme-Lab'] };
    expect(uncontainedRefusal(result('docker'), 'alice', cfg)).toBeNull();
    expect(uncontainedRefusal(result('sandbox'), 'alice', cfg)).toBeNull();
    expect(uncontainedRefusal(result('none'), 'acme-lab', cfg)).toBeNull();
    expect(uncontainedRefusal(result('none'), 'alice', cfg)).toMatch(/not contained \(isolation none\).*trust the fleet of alice \(containment.trusted_fleets\)/);
    expect(uncontainedRefusal(result('none'), null, cfg)).toMatch(/not contained/);
  });

  it('a fleet named by account id (id:<n>) is trusted whatever its login; a login it freed, taken by another account, is not', () => {
    // the operator's account 42 ran its fleet as opsfleet, renamed to opsfleet-2; account 77 took opsfleet
    const cfg = { trusted_fleets: ['id:42'] };
    expect(uncontainedRefusal(result('none'), 'opsfleet-2', cfg, 42)).toBeNull();
    expect(uncontainedRefusal(result('none'), 'opsfleet', cfg, 77)).toMatch(/not contained \(isolation none\)/);
    expect(uncontainedRefusal(result('none'), 'opsfleet', cfg)).toMatch(/not contained/); // a registration without an id: by login only
  });

  it('a result from an uncontained run is recorded as rejected, and scores nothing', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    await w.complete(d, 'runner-a', 1.5, { tamper: (r) => (r.job.isolation = 'none') });
    const [rec] = w.entries('result_recorded');
    expect(rec.data).toMatchObject({ validated: false });
    expect(rec.data.reason).toMatch(/not contained \(isolation none\)/);
    expect(w.gh.merges).toEqual([]);
  });

  it('the same result from a trusted fleet counts', async () => {
    const w = new World({ config: 'max_in_flight: 2\ncontainment:\n  trusted_fleets: [alice]\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const [d] = w.gh.dispatches;
    await w.complete(d, 'runner-a', 1.99, { tamper: (r) => (r.job.isolation = 'none') });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: true });
  });
});
