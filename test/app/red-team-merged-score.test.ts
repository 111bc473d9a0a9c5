// Red team: the merged score of a PR merged on other owners' runs. A colluding runner owner reports
// a forged val_bpb 0.50 for the claim; the honest verifiers measure ~1.95, still an improvement, so
// the App merges on THEIR runs (experiment_merged.job_ids) and faults the claim. The entry's
// val_bpb was the claim's: the public, signed ledger recorded the forged figure as the merged score.
import { describe, expect, it } from '@jest/globals';
import { auditLedger } from '../../ledger/index.js';
import { auditEachWorld, runnerFor, trustWorld, type World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

auditEachWorld();

/** Runs every verify dispatch of PR 7 on its runner at `bpb` (a little apart) until none is left. */
async function verifyAll(w: World, bpb: number): Promise<void> {
  for (let k = 0; k < 6; k++) {
    const d = w.gh.dispatches.at(-1)!;
    if (d.inputs.pr !== '7' || d.inputs.role !== 'verify' || w.gh.merges.length) return;
    await w.complete(d, runnerFor(w, d), bpb + k * 0.001);
  }
}

describe('a merge on other owners\' runs records what they measured', () => {
  it('an outvoted forged claim is never the merged score: the entry carries the mean of the runs it rests on', async () => {
    const w = trustWorld('max_in_flight: 4\nverification:\n  quorum: 1\n  suspicious_jump: 10\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-m', 0.5); // forged by mallory's runner
    await verifyAll(w, 1.95);
    expect(w.gh.merges).toHaveLength(1);
    expect(w.entries('owner_faulted').map((f) => f.data.login)).toEqual(['mallory']);
    const m = w.entries('experiment_merged')[0].data;
    const claim = w.entries('result_recorded').find((r) => r.data.runner_owner === 'mallory')!.data.job_id;
    expect(m.job_ids).not.toContain(claim);
    const scores = m.job_ids.map((j) => w.entries('result_recorded').find((r) => r.data.job_id === j)!.data.result!.val_bpb!);
    expect(m.val_bpb).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / scores.length, 9);
    expect(w.entries('merge_intended')[0].data.val_bpb).toBe(m.val_bpb);
  });
});
