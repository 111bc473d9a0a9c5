// A claim whose merge waits for the replay of one of its verify runs is not lost while no replay
// job is open. The fault run (seed 1, 30 PRs, the App's draws shifted) found a PR commit trained
// twice from the start: a replay of a verify run was refused, the next replay was not yet sent
// (a fault between the record and the dispatch), and the reconcile pass found the commit neither
// queued, running nor judged and queued it again. The same gap opens without a fault: the next
// replay waits until an owner who may run it is online. Attack first: before, the tick below
// queued PR 7 again and its first run was dispatched a second time.
import { describe, it, expect } from '@jest/globals';
import { auditEachWorld, online, reg, World } from './world.js';
import { viewOf } from '../../app/ledger-view.js';
import { orphaned } from '../../app/heads.js';

auditEachWorld();

const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });
const RUNNERS: Record<string, string> = { alice: 'runner-a', bob: 'runner-b', carol: 'runner-c', dave: 'runner-d' };
const runnerOf = (d: { inputs: Record<string, string> }, anyOf = 'carol') => RUNNERS[d.inputs.runner_label.startsWith('owner-') ? d.inputs.runner_label.slice(6) : anyOf];
const minutes = (w: World, m: number) => (w.clock = new Date(w.clock.getTime() + m * 60_000));

describe('a claim held for a replay', () => {
  it('waits for the replay while none can be sent, and is not queued to run again', async () => {
    const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol'), reg('runner-d', 'dave')];
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: regs.slice(0, 3) });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    const firstRuns = () => w.gh.dispatches.filter((d) => d.inputs.role === 'candidate' && d.inputs.sha === head);
    await w.complete(firstRuns()[0], 'runner-a', 1.9, { tamper: WASM });
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, runnerOf(verify), 1.905, { tamper: WASM });
    // the verify run's owner is on probation: the merge waits for another owner's replay of it
    const replaysOf = (nonce: string) => w.entries('job_dispatched').filter((e) => e.data.replay && e.data.verifies === nonce).map((e) => w.gh.dispatches.find((d) => d.inputs.nonce === e.data.job_id)!);
    const replay = replaysOf(verify.inputs.nonce)[0];
    expect(replay).toBeDefined();
    // that replay is refused (its result is not the run it was dispatched as): the next replay is due,
    // and no owner who may run it is online (not the claim's owner, nor its verifier, nor the refused replay's)
    await w.complete(replay, runnerOf(replay, 'carol'), 1.905, { tamper: (r) => Object.assign(WASM(r), { budget_seconds: 600 }) });
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ job_id: replay.inputs.nonce, validated: false });
    const view = viewOf(w.ledger());
    expect(view.open.filter((j) => j.pr === 7)).toEqual([]);
    expect(orphaned(view, 7, head)).toBe(false);
    const queued = w.entries('experiment_queued').length;
    minutes(w, 20);
    await w.tick();
    minutes(w, 20);
    await w.tick();
    expect(w.entries('experiment_queued')).toHaveLength(queued);
    expect(firstRuns()).toHaveLength(1);
    // an owner who may replay it comes online: the replay settles the run and the claim goes on
    online(w, 'runner-d', 'dave');
    await w.tick();
    const settle = replaysOf(verify.inputs.nonce).at(-1)!;
    expect(settle).not.toBe(replay);
    await w.complete(settle, 'runner-d', 1.905, { tamper: WASM });
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
    expect(firstRuns()).toHaveLength(1);
  });

  // The fault run (seed 1, 30 PRs, the App's draws shifted): a PR closed while the replay of one of
  // its verify runs was out; the replay was closed with the PR's jobs, the replay was still due
  // (it settles the verifier's credit, whatever became of the PR), so the next was sent, closed
  // again by the reconcile pass, sent again: twelve runs started for nothing, one attempt twice.
  // A side replay is no job of the PR (app/heads.ts): it runs on, as a long run does. Attack
  // first: before, closing the PR closed the replay and the tick sent the next one.
  it('runs on when the PR is closed, and settles the verify run once', async () => {
    const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')];
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: regs });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9, { tamper: WASM });
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    await w.complete(verify, runnerOf(verify), 1.905, { tamper: WASM });
    const replaysOf = () => w.entries('job_dispatched').filter((e) => e.data.replay && e.data.verifies === verify.inputs.nonce).map((e) => e.data.job_id);
    expect(replaysOf()).toHaveLength(1);
    await w.close(7);
    minutes(w, 20);
    await w.tick();
    expect(viewOf(w.ledger()).open.map((j) => j.job_id)).toEqual(replaysOf());
    const replay = w.gh.dispatches.find((d) => d.inputs.nonce === replaysOf()[0])!;
    await w.complete(replay, runnerOf(replay, 'carol'), 1.905, { tamper: WASM });
    await w.tick();
    expect(replaysOf()).toHaveLength(1);
    expect(w.entries('replay_judged').map((e) => [e.data.job_id, e.data.verdict])).toEqual([[verify.inputs.nonce, 'agreed']]);
    expect(w.entries('credit_granted').some((e) => e.data.job_id === verify.inputs.nonce)).toBe(true);
    // the claim it settled is not merged, nor is its merge tried (GitHub refuses a closed PR's)
    expect(w.entries('merge_intended')).toEqual([]);
    expect(w.entries('experiment_merged')).toEqual([]);
  });

  // The fault run (seed 3, 30 PRs, fault seed 24): a second App process whose view predated a
  // replay sent a second replay of the same verify run twenty seconds after the first had settled
  // it (both attempt 1): a volunteer's run for nothing. A replay is sent only while the run it
  // replays has no verdict on the chain the dispatch lands on. Attack first: before, the second
  // process's tick sent it.
  it('is not sent again by a process whose view predates the verdict', async () => {
    const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')];
    const w = new World({ trust: 'policy', config: 'max_in_flight: 10\nverification:\n  quorum: 1\n  min_sigma_df: 0\n', seed: regs.slice(0, 2) });
    w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: 'gpu-test', sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.98, { tamper: WASM });
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify' && !d.inputs.replay)!;
    // bob's run does not bear the claim out: the PR is discarded, and his run (on probation) awaits its replay
    await w.complete(verify, 'runner-b', 2.01, { tamper: WASM });
    expect(w.entries('experiment_discarded').map((e) => e.data.pr)).toEqual([7]);
    const replaysOf = () => w.entries('job_dispatched').filter((e) => e.data.replay && e.data.verifies === verify.inputs.nonce);
    // no owner who may replay it is online yet; a second process reads the ledger now
    expect(replaysOf()).toEqual([]);
    const second = w.makeProbot();
    await w.tick({ processes: [second] });
    online(w, 'runner-c', 'carol');
    await w.tick();
    expect(replaysOf()).toHaveLength(1);
    const replay = w.gh.dispatches.find((d) => d.inputs.nonce === replaysOf()[0].data.job_id)!;
    await w.complete(replay, 'runner-c', 2.01, { tamper: WASM });
    expect(w.entries('replay_judged').map((e) => [e.data.job_id, e.data.verdict])).toEqual([[verify.inputs.nonce, 'agreed']]);
    await w.tick({ processes: [second] });
    expect(replaysOf()).toHaveLength(1);
  });
});
