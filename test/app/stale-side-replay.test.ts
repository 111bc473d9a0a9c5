// A replay that settles a verify run, handled by an App process whose view of the ledger is
// minutes old (the store trusts the chain it last confirmed for 15 minutes: ledger/github-store.ts),
// still continues the claim. The fault run (seed 1, 30 PRs, the App's draws shifted) found a PR
// trained twice from the start: the second process still saw the claim's last verify run open, so
// it recorded the replay's verdict and did not continue the claim (judge.ts claimToContinue: the
// claim waits on another job of the commit); the process that had recorded that verify run had left
// the merge to the replay. Nothing continued the claim: the reconcile pass found the commit lost and
// queued it again. Attack first: before, PR 7 was never merged here.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, busy, online, reg, World } from './world.js';
import { viewOf } from '../../app/ledger-view.js';

auditEachWorld();

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
const RUNNERS: Record<string, string> = { alice: 'runner-a', bob: 'runner-b', carol: 'runner-c', dave: 'runner-d', erin: 'runner-e' };
const runnerOf = (d: { inputs: Record<string, string> }, anyOf: string) => RUNNERS[d.inputs.runner_label.startsWith('owner-') ? d.inputs.runner_label.slice(6) : anyOf];

/** PR 7: alice's claim, its verify runs sent to bob and then carol (the other runners kept busy); both open, v2 not yet run. */
async function claimVerifiedByBobAndCarol(w: World) {
  const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
  busy(w, 'runner-c', 'runner-d', 'runner-e');
  await w.complete(w.gh.dispatches.at(-1)!, 'runner-a', 1.9, { tamper: WASM });
  const v1 = w.gh.dispatches.at(-1)!;
  expect(v1.inputs.runner_label).toBe('owner-bob');
  busy(w, 'runner-b', 'runner-d', 'runner-e');
  await w.complete(v1, 'runner-b', 1.905, { tamper: WASM });
  const v2 = w.gh.dispatches.at(-1)!;
  expect(v2.inputs.runner_label).toBe('owner-carol');
  busy(w);
  return { head, v1, v2 };
}

describe('a side replay judged on a stale view', () => {
  it('continues the claim it settles once the chain shows the claim waits on nothing else', async () => {
    const regs = Object.keys(RUNNERS).map((o) => reg(RUNNERS[o], o));
    // probation of one agreeing result, no spot checks: carol is trusted after her first result
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 2\n  min_sigma_df: 0\ntrust:\n  replicate_until: 1\n  spot_check_rate: 0\n', seed: regs });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    for (const o of ['carol', 'dave', 'erin']) online(w, RUNNERS[o], o);
    await w.push(5, 'agent-5', { 'trainer/train.ts': 'export const LR = 5e-4;\n' });
    busy(w, 'runner-a', 'runner-b', 'runner-d'); // her discard is replayed by erin
    await w.complete(w.gh.dispatches[0], 'runner-c', 2.0, { tamper: WASM });
    const discardReplay = w.gh.dispatches.at(-1)!;
    await w.complete(discardReplay, runnerOf(discardReplay, 'erin'), 2.0, { tamper: WASM });
    expect(discardReplay.inputs.runner_label).toBe('owner-erin');
    expect(viewOf(w.ledger()).state.trust.trusted('carol')).toBe(true);
    expect(viewOf(w.ledger()).state.trust.trusted('bob')).toBe(false);
    // PR 7: alice's claim, verified by bob (on probation: his run counts once replayed) and carol (trusted)
    const { head, v1, v2 } = await claimVerifiedByBobAndCarol(w);
    await w.tick(); // the replay of bob's run is sent
    const r1 = w.gh.dispatches.at(-1)!;
    expect(w.entries('job_dispatched').find((e) => e.data.job_id === r1.inputs.nonce)!.data).toMatchObject({ verifies: v1.inputs.nonce, role: 'verify' });
    // a second App process reads the ledger now: carol's run is open in its view for minutes
    const second = w.makeProbot();
    await w.tick({ processes: [second] });
    // carol's run comes in to the first process: the merge waits for the replay of bob's run
    await w.complete(v2, 'runner-c', 1.9, { tamper: WASM });
    expect(w.entries('experiment_merged')).toEqual([]);
    // the replay comes in to the second: it reproduces bob's run, and the claim goes on to its merge
    await w.complete(r1, runnerOf(r1, 'dave'), 1.905, { tamper: WASM, processes: [second] });
    expect(w.entries('replay_judged').filter((e) => e.data.job_id === v1.inputs.nonce).map((e) => e.data.verdict)).toEqual(['agreed']);
    expect(w.entries('experiment_merged').map((e) => [e.data.pr, e.data.sha])).toEqual([[7, head]]);
    await w.tick();
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '7' && d.inputs.role === 'candidate')).toHaveLength(1);
  });

  // The fault run (seed 7, 30 PRs, fault seed 4): the claim's two verify runs each awaited a replay;
  // the first replay was judged by one process, the second came to a process whose view predated
  // that: there the claim still waited for the first, so it asked for a replay of it again (none
  // was sent: one had been judged) and the PR stalled until the reconcile pass queued it to train
  // again. A replay that may settle a claim is now judged on the chain as it is (read afresh: one
  // conditional request). Attack first: before, PR 7 was never merged here.
  it('judges the claim on the chain as it is when the view predates its other replay', async () => {
    const regs = Object.keys(RUNNERS).map((o) => reg(RUNNERS[o], o));
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 2\n  min_sigma_df: 0\n', seed: regs });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    for (const o of ['carol', 'dave', 'erin']) online(w, RUNNERS[o], o);
    const { head, v1, v2 } = await claimVerifiedByBobAndCarol(w);
    await w.complete(v2, 'runner-c', 1.9, { tamper: WASM });
    await w.tick();
    // both verify runs (owners on probation) await their replays
    const replayOf = (v: { inputs: Record<string, string> }) => {
      const e = w.entries('job_dispatched').find((x) => x.data.replay && x.data.verifies === v.inputs.nonce);
      return e ? w.gh.dispatches.find((d) => d.inputs.nonce === e.data.job_id)! : undefined;
    };
    const r1 = replayOf(v1)!;
    const r2 = replayOf(v2)!;
    expect([!!r1, !!r2]).toEqual([true, true]);
    // a second process reads the ledger now; the first replay comes to the first process
    const second = w.makeProbot();
    await w.tick({ processes: [second] });
    await w.complete(r1, runnerOf(r1, 'dave'), 1.905, { tamper: WASM });
    expect(w.entries('experiment_merged')).toEqual([]);
    // the second replay comes to the second process, whose view has the first still out
    await w.complete(r2, runnerOf(r2, 'erin'), 1.9, { tamper: WASM, processes: [second] });
    expect(w.entries('replay_judged').map((e) => e.data.verdict)).toEqual(['agreed', 'agreed']);
    expect(w.entries('experiment_merged').map((e) => [e.data.pr, e.data.sha])).toEqual([[7, head]]);
    await w.tick();
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '7' && d.inputs.role === 'candidate')).toHaveLength(1);
  });

  // The fault run (seed 3, 300 PRs): the same for a verify run. Its result reached a process whose
  // view predated the verdict on the replay of the claim's first verify run: there the merge waited
  // for that replay again, none was sent (judged already), and the PR stalled until the reconcile
  // pass queued it to train again. Attack first: before, no replay of carol's run was sent here.
  it('judges a verify run on the chain as it is when the view predates a replay of the claim', async () => {
    const regs = Object.keys(RUNNERS).map((o) => reg(RUNNERS[o], o));
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 2\n  min_sigma_df: 0\n', seed: regs });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    for (const o of ['carol', 'dave', 'erin']) online(w, RUNNERS[o], o);
    const { head, v1, v2 } = await claimVerifiedByBobAndCarol(w);
    await w.tick(); // the replay of bob's run is sent
    const replayOf = (v: { inputs: Record<string, string> }) =>
      w.entries('job_dispatched').filter((x) => x.data.replay && x.data.verifies === v.inputs.nonce).map((e) => w.gh.dispatches.find((d) => d.inputs.nonce === e.data.job_id)!);
    const [r1] = replayOf(v1);
    expect(r1).toBeDefined();
    // a second process reads the ledger now; the replay of bob's run comes to the first, and agrees
    const second = w.makeProbot();
    await w.tick({ processes: [second] });
    await w.complete(r1, runnerOf(r1, 'dave'), 1.905, { tamper: WASM });
    expect(w.entries('replay_judged').map((e) => e.data.verdict)).toEqual(['agreed']);
    // carol's run comes to the second process: on the chain as it is, the merge waits for a replay of hers
    await w.complete(v2, 'runner-c', 1.9, { tamper: WASM, processes: [second] });
    const [r2] = replayOf(v2);
    expect(r2).toBeDefined();
    await w.complete(r2, runnerOf(r2, 'erin'), 1.9, { tamper: WASM });
    expect(w.entries('experiment_merged').map((e) => [e.data.pr, e.data.sha])).toEqual([[7, head]]);
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '7' && d.inputs.role === 'candidate')).toHaveLength(1);
  });
});
