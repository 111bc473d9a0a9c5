// Baselines: the default branch's score on one hardware class, from repeated runs.
export interface Baseline {
  hardware_class: string;
  sha: string;
  mean: number;
  sigma: number;
  n: number;
  tokens_per_second: number;
}

/** Mean and sample standard deviation (n - 1); sigma is 0 for fewer than two values. */
export function meanSigma(values: number[]): { mean: number; sigma: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sigma: 0, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sigma: 0, n };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  return { mean, sigma: Math.sqrt(variance), n };
}

export interface BaselineRun {
  hardware_class: string;
  sha: string;
  val_bpb: number;
  tokens_per_second: number;
  job_id: string;
  /** the runner's owner; absent in callers that do not require agreeing owners */
  owner?: string | null;
  /** a run of the merged claim that made `sha`, counted as a sample of its baseline (ledger/baseline-reuse.ts), not a baseline run */
  reused?: true;
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** How far from its commit's median a run may score, in robust standard deviations (1.4826 x MAD). */
export const OUTLIER_SIGMAS = 10;

/**
 * The runs within OUTLIER_SIGMAS robust standard deviations of their median (all of them when
 * fewer than five, or when they do not spread). An owner whose median agrees can still bring one
 * run far off the rest (the simulator's CPU owner: 2.653 among twenty runs at 2.34 +- 0.014): counted,
 * it made the class's first baseline sigma 0.070, and the class's pooled sigma stayed several times
 * too wide for days, so that 3-sigma improvements failed the screen. The MAD of 20 runs is itself
 * noisy: at 6 robust sigmas 4 of 20,000 honest normal runs were cut, at 8 one, at 10 none
 * (test/app/policy.test.ts); the 2.653 lies 22 sigmas out. A run left out is not a sample, and the
 * App asks for one more run (app/baselines.ts baselineJobs).
 */
function withoutOutliers(runs: BaselineRun[]): BaselineRun[] {
  if (runs.length < 5) return runs;
  const m = median(runs.map((r) => r.val_bpb));
  const s = 1.4826 * median(runs.map((r) => Math.abs(r.val_bpb - m)));
  if (!(s > 0)) return runs;
  return runs.filter((r) => Math.abs(r.val_bpb - m) <= OUTLIER_SIGMAS * s);
}

const ownerOf = (r: BaselineRun) => r.owner?.toLowerCase() ?? null;

/**
 * The runs of `sha` on `hardwareClass` that count as samples of its baseline (see
 * baselineFromRuns), or null while `agree.owners` distinct owners do not agree on it. The owner
 * count is taken again after the outlier cut: the cut must never leave a baseline resting on
 * fewer owners than the policy needs (the ledger audit refuses one). The App then asks an owner
 * with no counted run for another (app/baselines.ts baselineJobsFor).
 */
export function baselineSamples(runs: BaselineRun[], hardwareClass: string, sha: string, agree?: { owners: number; tolerance: number }): BaselineRun[] | null {
  let mine = runs.filter((r) => r.hardware_class === hardwareClass && r.sha === sha);
  if (agree) {
    const byOwner = new Map<string, BaselineRun[]>();
    for (const r of mine) if (ownerOf(r)) byOwner.set(ownerOf(r)!, [...(byOwner.get(ownerOf(r)!) ?? []), r]);
    if (byOwner.size < agree.owners) return null;
    const m = median([...byOwner.values()].map((rs) => median(rs.map((r) => r.val_bpb))));
    const kept = [...byOwner.values()].filter((rs) => Math.abs(median(rs.map((r) => r.val_bpb)) - m) <= agree.tolerance + 1e-12);
    if (kept.length < agree.owners) return null;
    mine = mine.filter((r) => kept.some((rs) => rs.includes(r)));
  }
  mine = withoutOutliers(mine);
  if (agree && new Set(mine.map(ownerOf).filter(Boolean)).size < agree.owners) return null;
  return mine;
}

/** The owners with runs of `sha` on `hardwareClass` of which the outlier cut keeps none: asking one of them again is no repeat. */
export function cutOwners(runs: BaselineRun[], hardwareClass: string, sha: string): string[] {
  const mine = runs.filter((r) => r.hardware_class === hardwareClass && r.sha === sha);
  const kept = new Set(withoutOutliers(mine).map(ownerOf));
  return [...new Set(mine.map(ownerOf))].filter((o): o is string => !!o && !kept.has(o));
}

/**
 * The baseline of `sha` on `hardwareClass` once `needed` validated runs of it exist, else null.
 * Only runs of that exact commit count: a baseline of an older default branch is stale. With
 * `agree`, a class has no baseline until `agree.owners` distinct owners agree on it: each
 * owner's median is compared with the median of all owners' medians, and the runs of an owner
 * more than `agree.tolerance` away are left out (a saboteur cannot move the baseline; a class
 * liar alone cannot create one). A run far off the others (withoutOutliers) is left out. Runs of the merged claim that made `sha` (`reused`) count as
 * samples like any other, but never alone: a baseline needs at least one run of `sha` itself.
 */
export function baselineFromRuns(
  runs: BaselineRun[],
  hardwareClass: string,
  sha: string,
  needed: number,
  agree?: { owners: number; tolerance: number },
): (Baseline & { job_ids: string[] }) | null {
  const mine = baselineSamples(runs, hardwareClass, sha, agree);
  if (!mine || mine.length < needed) return null;
  // a merged claim's runs count only beside a run of the commit itself (it shows they ran its train.ts and harness)
  if (mine.every((r) => r.reused)) return null;
  const { mean, sigma, n } = meanSigma(mine.map((r) => r.val_bpb));
  const tps = meanSigma(mine.map((r) => r.tokens_per_second)).mean;
  return { hardware_class: hardwareClass, sha, mean, sigma, n, tokens_per_second: tps, job_ids: mine.map((r) => r.job_id) };
}
