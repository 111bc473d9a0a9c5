// An owner banned since its runner registered is never asked to verify: its run would be refused
// at intake and the job would wait out its deadline before running elsewhere (the simulator at 40%
// adversarial owners: verify jobs sent to banned owners timed out every 30 minutes until their
// attempts ran out). Attack first: before verifierLabel left banned owners out, half of these claims'
// verify jobs went to a banned owner (the verifier is drawn among the class's owners).
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { appendEntries, ledgerFiles } from '../../ledger/index.js';
import { CLASS, online, reg, World } from './world.js';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('verifiers', () => {
  it('a claim\'s verify job never goes to an owner banned since its runner registered', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 20\nverification:\n  quorum: 1\n', seed: [] });
    const seed = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-d', 'dave'), reg('runner-m', 'mallory')];
    for (const r of seed) online(w, r.data.runner_name, r.data.owner, r.data.hardware_class);
    w.seedLedger([
      ...seed,
      { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } },
      { type: 'owner_banned', data: { login: 'bob', reason: '2 faults, the last on job x1' } },
      { type: 'owner_banned', data: { login: 'carol', reason: '2 faults, the last on job x2' } },
    ]);
    const targets: string[] = [];
    for (let pr = 7; pr < 15; pr++) {
      await w.push(pr, `agent-${pr}`, { 'trainer/train.ts': `export const LR = ${pr}e-4;\n` });
      const d = w.gh.dispatches.at(-1)!;
      await w.complete(d, 'runner-a', 1.95); // a claim: 5 sigma below the baseline
      const v = w.gh.dispatches.at(-1)!;
      expect(v.inputs).toMatchObject({ role: 'verify', pr: String(pr) });
      targets.push(v.inputs.runner_label);
    }
    expect(targets.filter((t) => t === 'owner-bob' || t === 'owner-carol')).toEqual([]);
    expect(new Set(targets)).toEqual(new Set(['owner-dave', 'owner-mallory']));
  });

  it('a verify job queued for an owner banned after its dispatch is cancelled and dispatched to the class at the next tick, not after the queue limit', async () => {
    const w = new World({ config: 'queue_limit_minutes: 120\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9); // a claim; bob's runner is the only other owner's
    const v = w.gh.dispatches[1];
    expect(v.inputs).toMatchObject({ role: 'verify', runner_label: 'owner-bob' });
    expect(w.entries('job_dispatched').at(-1)!.data.runner_label).toBe('owner-bob');
    // bob is banned (faulted elsewhere) while the verify run waits for his runner
    const chain = w.ledger();
    const all = [...chain, ...appendEntries(chain, [{ type: 'owner_banned', data: { login: 'bob', reason: '2 faults, the last on job x1' }, time: w.clock.toISOString() }])];
    w.gh.refs.set('heads/ledger', w.gh.commit(ledgerFiles(all), null, 'ledger'));
    w.clock = new Date(w.clock.getTime() + 16 * 60_000);
    await w.tick({ processes: [w.makeProbot()] }); // (a process that reads the ledger afresh)
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ job_id: v.inputs.nonce, reason: 'no runner took its run: it waits for owner-bob, whose owner is banned (cancelled) (attempt 1)' });
    expect(w.gh.workflowRuns.get(v.run_id!)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(w.gh.dispatches.slice(2).map((d) => [d.inputs.role, d.inputs.runner_label])).toEqual([['verify', CLASS]]);
  });
});
