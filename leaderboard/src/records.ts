// The record history: every merged improvement in the order it was merged, as modded-nanogpt keeps
// its records table, and per hardware class where the score started and where it is now.
import type { ApiExperiment } from './api-schema.js';
import type { Baseline, Merge } from './experiments.js';

export interface RecordRow {
  /** when it was merged */
  time: string;
  experiment: ApiExperiment;
  hardware_class: string;
  val_bpb: number;
  /** the baseline of main it beat, and by how much (negative: lower is better) */
  baseline_mean: number;
  delta: number;
  merge_sha: string;
}

export interface ClassStory {
  hardware_class: string;
  /** the first baseline of main on this class */
  from: { val_bpb: number; time: string } | null;
  /** the latest record on this class, or null when none was merged yet */
  to: RecordRow | null;
  records: number;
}

/** Records newest last; a merge whose experiment the ledger does not hold as a candidate result is left out. */
export function recordHistory(merges: readonly Merge[], api: readonly ApiExperiment[]): RecordRow[] {
  // the row of the class the merge was judged on first: the same commit may have run on another class too
  const byPrSha = new Map<string, ApiExperiment>();
  for (const a of api) {
    if (a.status !== 'merged') continue;
    for (const key of [`${a.pr}:${a.sha}:${a.hardware_class}`, `${a.pr}:${a.sha}`]) if (!byPrSha.has(key)) byPrSha.set(key, a);
  }
  const out: RecordRow[] = [];
  for (const m of merges) {
    const a = byPrSha.get(`${m.pr}:${m.sha}:${m.hardware_class}`) ?? byPrSha.get(`${m.pr}:${m.sha}`);
    if (!a) continue;
    out.push({ time: m.time, experiment: a, hardware_class: m.hardware_class, val_bpb: m.val_bpb, baseline_mean: m.baseline_mean, delta: m.val_bpb - m.baseline_mean, merge_sha: m.merge_sha });
  }
  return out;
}

export function classStories(classes: readonly string[], baselines: readonly Baseline[], records: readonly RecordRow[]): ClassStory[] {
  return classes.map((cls) => {
    const first = baselines.find((b) => b.hardware_class === cls);
    let to: RecordRow | null = null;
    let n = 0;
    for (const r of records) {
      if (r.hardware_class !== cls) continue;
      n++;
      to = r;
    }
    return { hardware_class: cls, from: first ? { val_bpb: first.mean, time: first.time } : null, to, records: n };
  });
}
