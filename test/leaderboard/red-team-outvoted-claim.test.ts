// A merge rests on the runs its experiment_merged entry names (job_ids): when the claim itself was
// outvoted (app/policy/replication.ts: two other owners agree on a smaller improvement that still
// beats the baseline, and the claim's owner is faulted), the PR is merged on THEIR runs. The
// leaderboard marked every candidate result of the PR's pr:sha "merged" with its own val_bpb, so a
// runner owner who reported a forged 0.50 for a colluding author's PR made that number the class's
// `best` in api/v1/best.json, the record and the progress staircase that agents read, although
// other owners measured ~2.00. Likewise a run of the same commit on another class (the PR moved
// there: app/waiting.ts noVerifier) that nobody verified.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { readExperiments } from '../../leaderboard/src/experiments.js';
import { bestPerClass, toApiExperiment } from '../../leaderboard/src/api.js';
import { progressFor } from '../../leaderboard/src/progress.js';
import { recordHistory } from '../../leaderboard/src/records.js';
import { at, baseline, dispatched, recorded, sha40 } from '../ledger/fixtures.js';

const CLS = 'gpu-a10g';
const verifyRun = (job_id: string, owner: string, val_bpb: number, cls = CLS): NewEntry<'result_recorded'> => {
  const r = recorded(job_id, owner, { val_bpb, hardware_class: cls });
  return { ...r, data: { ...r.data, role: 'verify' } };
};

function ledger(): LedgerEntry[] {
  return appendEntries(
    [],
    [
      baseline(CLS, 20_000, undefined, at(0)),
      baseline('gpu-h100', 90_000, undefined, at(0)),
      dispatched('claim', 'agent-alice', { time: at(1) }),
      // the same commit on another class, never verified there
      recorded('elsewhere', 'mallory', { val_bpb: 0.4, hardware_class: 'gpu-h100', time: at(5) }),
      recorded('claim', 'mallory', { val_bpb: 0.5, time: at(6) }), // forged by the runner's owner
      verifyRun('v1', 'bob', 2.0),
      verifyRun('v2', 'carol', 2.01),
      { type: 'owner_faulted', data: { login: 'mallory', job_id: 'claim', claim_job_id: 'claim', agreed_job_ids: ['v1', 'v2'], reason: 'outvoted' } },
      { type: 'experiment_merged', time: at(20), data: { pr: 7, sha: sha40(7), merge_sha: sha40(99), hardware_class: CLS, val_bpb: 0.5, baseline_mean: 2.2, job_ids: ['v1', 'v2'] } },
    ],
  );
}

describe('a merged PR whose own run the merge does not rest on', () => {
  const view = readExperiments(ledger());
  const api = view.experiments.map((e) => toApiExperiment(e, null));
  const best = bestPerClass([CLS, 'gpu-h100'], new Map([[CLS, 'a10g'], ['gpu-h100', 'h100']]), api, view.baselines);

  it('the PR still shows merged', () => {
    expect(api.map((a) => a.status)).toEqual(['merged', 'merged']);
  });

  it('the best of its class is the score of the runs the merge rests on, not the outvoted claim', () => {
    const b = best.classes.find((c) => c.hardware_class === CLS)!.best!;
    expect(b.val_bpb).toBeCloseTo(2.005, 6);
    expect(b.delta).toBeCloseTo(2.005 - 2.2, 6);
  });

  it('a run of the commit on a class the merge was not judged on sets no best there', () => {
    const b = best.classes.find((c) => c.hardware_class === 'gpu-h100')!;
    expect(b.best?.val_bpb ?? null).toBeNull();
  });

  it('the progress staircase and the record history never go below what the agreeing runs measured', () => {
    for (const cls of [CLS, 'gpu-h100']) {
      const p = progressFor(cls, view.experiments, view.baselines, view.merges);
      for (const x of p.best) if (x !== null) expect(x).toBeGreaterThan(1.9);
    }
    const records = recordHistory(view.merges, api);
    expect(records).toHaveLength(1);
    expect(records[0].val_bpb).toBeCloseTo(2.005, 6);
    expect(records[0].experiment.hardware_class).toBe(CLS); // the record links the row of the class it was judged on
  });

  it('says why the row shows another score than its own run', () => {
    const claim = view.experiments.find((e) => e.job_id === 'claim')!;
    expect(claim.reason).toMatch(/claim.*0\.5000|0\.5000.*not one of the runs/);
    expect(claim.result?.val_bpb).toBe(0.5); // the run itself is still shown as recorded
  });
});
