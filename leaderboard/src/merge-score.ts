// What a merge measured: the runs its experiment_merged entry names (job_ids) are the ones it rests
// on. When the claim itself was outvoted (app/policy/replication.ts: other owners agree on a
// smaller improvement that still beats the baseline), the entry's val_bpb is still the claim's,
// and a candidate run of the same commit may not be among job_ids at all (outvoted, or run on a
// class the merge was not judged on). Pages and the API show for a merge only what its own runs
// measured, so a forged claim never becomes a class's best, record or progress step.
import type { LedgerEntry } from '../../ledger/entries.js';

type Results = ReadonlyMap<string, LedgerEntry<'result_recorded'>>;

/** The scores of the merge's own runs on its class (validated, scored). */
function restingScores(jobIds: readonly string[], cls: string, results: Results): number[] {
  const out: number[] = [];
  for (const j of jobIds) {
    const d = results.get(j)?.data;
    const r = d?.validated ? d.result : null;
    if (r && r.status === 'ok' && r.hardware_class === cls && typeof r.val_bpb === 'number' && Number.isFinite(r.val_bpb)) out.push(r.val_bpb);
  }
  return out;
}

/** The val_bpb a merge stands for: the entry's when one of its runs measured it, else its runs' mean (the entry's when the ledger holds none of them). */
export function mergeScore(d: LedgerEntry<'experiment_merged'>['data'], results: Results): number {
  const scores = restingScores(d.job_ids, d.hardware_class, results);
  if (!scores.length || scores.includes(d.val_bpb)) return d.val_bpb;
  return scores.reduce((a, v) => a + v, 0) / scores.length;
}

/** Why a merged row shows the merge's score instead of its own run's (which the merge does not rest on). */
export function notRestedOn(own: number | null, d: { job_ids: readonly string[]; hardware_class: string } | undefined, cls: string): string {
  const ran = own === null ? 'this run' : `this run (val_bpb ${own.toFixed(4)})`;
  if (!d) return `${ran} is not one of the runs a merge rests on`;
  const on = d.hardware_class === cls ? `the merge rests on ${d.job_ids.join(', ')} (outvoted or not counted)` : `the merge was judged on ${d.hardware_class}, not ${cls}; this score was never verified`;
  return `${ran} is not one of the runs the merge rests on: ${on}`;
}
