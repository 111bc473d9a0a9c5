// A PR closed while its claim is under way (its first run scored, the verdict not given). Found
// in session 20 by reading app/heads.ts after the held-claim fixes of session 19: a close while
// the claim waited for the replay of one of its verify runs (no job of the PR open, none queued)
// left no mark in the ledger, so
// - the author reopened the PR and its commit was trained again from the start at the swarm's
//   cost: its first run re-rolled for free (what closeUsesPayment stops for a close while a
//   verify job is open), and
// - the runner that trained the claim's first run was never paid, whatever the other owners'
//   runs said of it (a candidate's credit waits for its commit's verdict, which a close never
//   gives), nor in the ordinary case of a close while a verify run was out.
// Now the close records that the claim ended (experiment_dequeued, "PR #n was closed"): the
// payment is used, and the first run is paid once another owner's run agreed with it. Attack
// first: before, the reopened commit's first run was dispatched with no credit spent, and alice's
// first run was never granted.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, busy, reg, runnerFor, trustWorld, World } from './world.js';
import { viewOf } from '../../app/ledger-view.js';

auditEachWorld();

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
const RUNNERS: Record<string, string> = { alice: 'runner-a', bob: 'runner-b', carol: 'runner-c' };
const runnerOf = (d: { inputs: Record<string, string> }, anyOf = 'carol') => RUNNERS[d.inputs.runner_label.startsWith('owner-') ? d.inputs.runner_label.slice(6) : anyOf];
const minutes = (w: World, m: number) => (w.clock = new Date(w.clock.getTime() + m * 60_000));

/** PR 7's claim: alice's first run scores 1.9 against the baseline 2.0, on a world of three owners on probation. */
async function claimed(): Promise<{ w: World; head: string; first: { inputs: Record<string, string> } }> {
  const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')];
  const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: regs });
  w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
  const first = w.gh.dispatches[0];
  await w.complete(first, 'runner-a', 1.9, { tamper: WASM });
  return { w, head, first };
}

const firstRunsOf = (w: World, sha: string) => w.gh.dispatches.filter((d) => d.inputs.role === 'candidate' && d.inputs.sha === sha);
const spentFor = (w: World, sha: string) => w.entries('credit_spent').filter((e) => firstRunsOf(w, sha).some((d) => d.inputs.nonce === e.data.job_id));

describe('a PR closed while its claim is under way', () => {
  it('held for a replay: the close ends the claim, the reopened commit is paid again, the first run is paid', async () => {
    const { w, head, first } = await claimed();
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, runnerOf(verify), 1.905, { tamper: WASM });
    // bob's verify run agreed with alice's first run; bob is on probation: the merge waits for a replay of his run
    const replayId = w.entries('job_dispatched').find((e) => e.data.replay && e.data.verifies === verify.inputs.nonce)!.data.job_id;
    expect(viewOf(w.ledger()).open.map((j) => j.job_id)).toEqual([replayId]);
    await w.close(7);
    expect(w.entries('experiment_dequeued').map((e) => [e.data.pr, e.data.sha, e.data.reason])).toEqual([[7, head, 'PR #7 was closed']]);
    // a second delivery of the close records nothing more
    await w.close(7);
    expect(w.entries('experiment_dequeued')).toHaveLength(1);
    // bob's agreement does not count yet: his run waits for its replay (else a forger's claim, echoed
    // by a colluding verifier whose run no replay confirmed, would be closed into credit)
    await w.tick();
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).not.toContain(first.inputs.nonce);
    const replay = w.gh.dispatches.find((d) => d.inputs.nonce === replayId)!;
    await w.complete(replay, runnerOf(replay, 'carol'), 1.905, { tamper: WASM });
    await w.tick();
    expect(w.entries('experiment_merged')).toEqual([]);
    // the runner that trained the claim's first run is paid: another owner's run agreed with it
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).toContain(first.inputs.nonce);
    // reopened, the commit is a new experiment, paid again (the free tier counts it)
    minutes(w, 60);
    await w.reopen(7);
    await w.tick();
    expect(firstRunsOf(w, head)).toHaveLength(2);
    expect(spentFor(w, head)).toHaveLength(2);
  });

  // The same close, unheard (a lost pull_request.closed delivery): the reconcile pass, which finds
  // the PR among neither the open ones nor the claims ended, records it. Before: nothing, and the
  // reopened commit trained again for free.
  it('held for a replay, closed unheard: the tick ends the claim', async () => {
    const { w, head } = await claimed();
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, runnerOf(verify), 1.905, { tamper: WASM });
    w.gh.pulls.get(7)!.state = 'closed';
    minutes(w, 20);
    await w.tick();
    expect(w.entries('experiment_dequeued').map((e) => [e.data.pr, e.data.sha, e.data.reason])).toEqual([[7, head, 'PR #7 was closed']]);
    await w.tick();
    expect(w.entries('experiment_dequeued')).toHaveLength(1);
    const replayId = w.entries('job_dispatched').find((e) => e.data.replay && e.data.verifies === verify.inputs.nonce)!.data.job_id;
    const replay = w.gh.dispatches.find((d) => d.inputs.nonce === replayId)!;
    await w.complete(replay, runnerOf(replay, 'carol'), 1.905, { tamper: WASM });
    minutes(w, 60);
    await w.reopen(7);
    await w.tick();
    expect(firstRunsOf(w, head)).toHaveLength(2);
    expect(spentFor(w, head)).toHaveLength(2);
  });

  it('with a verify run out: its first run, agreed with by no one, is not paid (an author cannot close a forged claim into credit)', async () => {
    const { w, first } = await claimed();
    await w.close(7);
    await w.tick();
    // the verify run was closed with the PR; nothing agreed with alice's 1.9: no credit for it
    expect(w.entries('result_recorded').filter((e) => e.data.reason === 'PR #7 was closed').map((e) => e.data.role)).toEqual(['verify']);
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).not.toContain(first.inputs.nonce);
  });

  // A commit discarded, then reopened and paid again, is a new round, but the view still counted
  // it decided (its first round's discard): the new round's first run was due at once, on trust
  // alone, before anyone checked it. A trusted runner's claim the author then closed (the verify
  // run never ran) kept its credit: a colluding pair made 300 s of credit per reopening, free tier
  // or not, with no check that could catch the run (claims are verified, never spot-checked).
  // Now a first run is due once its commit is decided after it was recorded. Attack first: before,
  // runner-a's second first run was granted as it was recorded.
  it('reopened after a discard: the new first run waits for the new verdict, and a close does not pay it unchecked', async () => {
    const w = new World(); // every owner trusted, no spot checks
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.entries('experiment_discarded').map((e) => e.data.sha)).toEqual([head]);
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).toEqual([w.gh.dispatches[0].inputs.nonce]);
    await w.close(7);
    await w.reopen(7);
    const second = firstRunsOf(w, head)[1];
    await w.complete(second, 'runner-a', 1.9);
    expect(w.gh.dispatches.at(-1)!.inputs.role).toBe('verify');
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).not.toContain(second.inputs.nonce);
    await w.close(7);
    await w.tick();
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).not.toContain(second.inputs.nonce);
  });

  // A trusted owner's claim is checked by a verify run's agreement; a verifier on probation has
  // his run replayed before it counts. Closed before that replay, the claim's first run was due
  // on the echo alone: a trusted forger, a colluding verifier drawn for its claim and an author who
  // closes the PR. Attack first: with the first-run rule above alone, alice's first run was granted
  // with the next entry recorded after the close, though the replay of the echo disagreed with it.
  it('a trusted owner\'s claim closed while its verifier\'s run waits for a replay is not paid on that run\'s agreement', async () => {
    const w = trustWorld('max_in_flight: 4\nverification:\n  quorum: 1\ntrust:\n  replicate_until: 2\n', [reg('runner-d', 'dave'), reg('runner-e', 'eve')]);
    // alice's discards, each replayed by another owner, until two owners agreed with her: alice trusted (replicate_until 2)
    const partners = new Set<string>();
    for (let n = 1; partners.size < 2; n++) {
      await w.push(n, `agent-${n}`, { 'trainer/train.ts': `export const LR = ${n}e-4;\n` });
      busy(w, 'runner-b', 'runner-c', 'runner-d', 'runner-e', 'runner-m');
      await w.complete(w.gh.dispatches.find((d) => d.inputs.pr === String(n))!, 'runner-a', 2.005);
      busy(w, 'runner-a');
      await w.tick();
      const replay = w.gh.dispatches.find((d) => d.inputs.pr === String(n) && d.inputs.replay)!;
      partners.add(runnerFor(w, replay));
      await w.complete(replay, runnerFor(w, replay), 2.005);
    }
    expect(new Set(w.entries('replay_judged').map((e) => e.data.verdict))).toEqual(new Set(['agreed']));
    // PR 7: alice's claim (a forgery), verified by an owner on probation, whose run awaits its replay
    busy(w, 'runner-b', 'runner-c', 'runner-d', 'runner-e', 'runner-m');
    await w.push(7, 'agent-7', { 'trainer/train.ts': 'export const LR = 7e-4;\n' });
    const first = w.gh.dispatches.find((d) => d.inputs.pr === '7')!;
    await w.complete(first, 'runner-a', 1.9);
    busy(w, 'runner-a');
    await w.tick();
    const verify = w.gh.dispatches.find((d) => d.inputs.pr === '7' && d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, runnerFor(w, verify), 1.901);
    expect(w.entries('verification').at(-1)!.data).toMatchObject({ job_id: first.inputs.nonce, agreed: true });
    expect(w.entries('experiment_merged')).toEqual([]);
    await w.close(7);
    await w.tick();
    // the replay of the echo (an honest owner's) does not reproduce it: what is recorded next makes any grant due
    const replay = w.gh.dispatches.find((d) => d.inputs.pr === '7' && d.inputs.replay)!;
    await w.complete(replay, runnerFor(w, replay), 2.0);
    expect(w.entries('credit_granted').map((e) => e.data.job_id)).not.toContain(first.inputs.nonce);
  });
});
