// A settled side replay of a verify run continues the claim it belongs to (its runs are judged
// again) only while that claim is still the PR commit's live round. In the fault run at seed 1
// (`npm run simulate -- --faults --experiments 300`) a GPU claim that no owner of its class was
// left to verify was queued to run on the CPU class; a side replay of one of its verify runs then
// settled, continued the claim, found no verifier again and queued the PR a second time. Had the
// first queue entry been dispatched in between, the commit's CPU candidate would have run twice.
// Attack first: before, claimToContinue returned the claim for a commit already queued again.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, reg, World } from './world.js';
import { appendEntries, type NewEntry } from '../../ledger/index.js';
import { viewOf } from '../../app/ledger-view.js';
import { claimToContinue } from '../../app/policy/side-replays.js';

auditEachWorld();

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });

describe('a settled side replay continues its claim', () => {
  it('while the commit waits on it, and not once the commit is queued again (run elsewhere, or the default branch moved)', async () => {
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')] });
    w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    const claim = w.gh.dispatches[0];
    await w.complete(claim, 'runner-a', 1.9, { tamper: WASM });
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, verify.inputs.runner_label === 'owner-bob' ? 'runner-b' : 'runner-c', 1.905, { tamper: WASM });
    const chain = w.ledger();
    const side = chain.find((e) => e.type === 'job_dispatched' && (e.data as { replay?: string; verifies?: string | null }).replay && (e.data as { verifies?: string | null }).verifies === verify.inputs.nonce);
    expect(side).toBeDefined();
    const sideJob = viewOf(chain).jobs.get((side!.data as { job_id: string }).job_id)!;
    // the claim waits for the replay of its verify run: a settled replay continues it
    expect(claimToContinue(viewOf(chain), sideJob)).toBe(claim.inputs.nonce);
    // the commit queued again: its new round is what it waits on now
    const queued: NewEntry = { type: 'experiment_queued', data: { pr: 7, sha: head, author: 'octo-agent', title: 'Experiment 7', check: null, comment: null, waiting_for: null, on_class: 'cpu-test' } };
    const after = viewOf([...chain, ...appendEntries(chain, [{ ...queued, time: w.clock.toISOString() }] as never)]);
    expect(claimToContinue(after, sideJob)).toBeNull();
  });

  it('not once a push superseded the commit: the new head keeps its place and runs once', async () => {
    // The fault run (seed 1, 30 PRs, the App's draws shifted): a side replay of a superseded commit's
    // verify run settled, continued that commit's claim and queued the old commit again (waiting for a
    // baseline), in the PR's one queue place: the new head, whose first run was waiting for the same
    // baseline, was no longer queued, counted as lost and trained a second time. Attack first: before,
    // the replay's result queued the superseded commit.
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')] });
    w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    const old = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9, { tamper: WASM });
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, verify.inputs.runner_label === 'owner-bob' ? 'runner-b' : 'runner-c', 1.905, { tamper: WASM });
    const sideOf = () => w.entries('job_dispatched').filter((e) => e.data.replay && e.data.verifies === verify.inputs.nonce).map((e) => e.data.job_id);
    expect(sideOf()).toHaveLength(1);
    // the author pushes: the commit's jobs close, the replay of its verify run is sent again (it settles that run's credit)
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' }, 'synchronize');
    const sideJob = viewOf(w.ledger()).jobs.get(sideOf()[0])!;
    expect(claimToContinue(viewOf(w.ledger()), sideJob)).toBeNull();
    const again = sideOf().at(-1)!;
    const d = w.gh.dispatches.find((x) => x.inputs.nonce === again)!;
    expect(d).toBeDefined();
    await w.complete(d, verify.inputs.runner_label === 'owner-bob' ? 'runner-c' : 'runner-b', 1.905, { tamper: WASM });
    expect(w.entries('experiment_queued').filter((e) => e.data.sha === old)).toEqual([]);
    expect(w.gh.dispatches.filter((x) => x.inputs.role === 'candidate' && x.inputs.sha === head)).toHaveLength(1);
  });
});
