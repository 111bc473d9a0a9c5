// Red team: a runner owner who trains a real improvement for a few steps only, reports the schedule
// it trained (progress reaching 1 after those steps, as if its machine had been that slow) with the
// calibration of a quiet machine, and the honest score of that barely trained model. A replay trains
// the same schedule, so it reproduces the checkpoint bit for bit: the discard stood, "reproduced",
// the improvement was lost and the saboteur paid, on a few seconds of training. The replay's own
// clock tells it: an honest machine of the class trained that schedule in a fraction of the budget.
import { describe, expect, it } from '@jest/globals';
import { auditEachWorld, runnerFor, trustWorld } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const WASM = (r: any) => Object.assign(r, { backend: 'wasm', threads: 2 });

auditEachWorld();

describe('a first run trained for a few steps of its budget', () => {
  it('is not a discard its replay proves: a replay that trains its schedule in a fraction of the budget sends the PR to fresh-seed runs', async () => {
    const w = trustWorld();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    // mallory: 3 steps, a quiet calibration, the honest score of a model trained 3 steps
    await w.complete(w.gh.dispatches[0], 'runner-m', 4.2, { tamper: (r: any) => Object.assign(WASM(r), { steps: 3, tokens: 3 * 2048 }) });
    const replay = w.gh.dispatches[1];
    expect(replay.inputs).toMatchObject({ role: 'verify', pr: '7' });
    expect(replay.inputs.replay).not.toBe('');
    // an honest replayer trains those 3 steps, in 0.6 s of the 300 s budget: the same checkpoint, the same score
    await w.complete(replay, runnerFor(w, replay), 4.2, { tamper: (r: any) => Object.assign(WASM(r), { steps: 3, tokens: 3 * 2048, train_seconds: 0.6 }) });
    expect(w.entries('experiment_discarded').filter((e) => e.data.pr === 7).map((e) => e.data.reason)).toEqual([]);
    const next = w.gh.dispatches[2];
    expect(next.inputs).toMatchObject({ role: 'verify', pr: '7', replay: '' });
    expect(next.inputs.runner_label).not.toBe('owner-mallory');
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    // other owners run it on the clock (and replay their runs, all on probation): the improvement merges
    // on their runs; mallory's run counts for nothing (no fault: its replay did reproduce what it trained)
    const done = new Set([0, 1]);
    for (let k = 2; k < w.gh.dispatches.length && k < 30 && !w.entries('experiment_merged').length; k++) {
      const d = w.gh.dispatches[k];
      if (done.has(k) || d.inputs.pr !== '7') continue;
      done.add(k);
      await w.complete(d, runnerFor(w, d), 1.9, { tamper: WASM });
    }
    expect(w.entries('experiment_merged').map((e) => e.data.pr)).toEqual([7]);
    const merged = w.entries('experiment_merged')[0].data as { job_ids?: string[] };
    const owners = (merged.job_ids ?? []).map((id) => w.entries('result_recorded').find((r) => r.data.job_id === id)!.data.runner_owner);
    expect(owners.length).toBeGreaterThan(0);
    expect(owners).not.toContain('mallory');
    expect(w.entries('owner_faulted')).toEqual([]);
  });
});
