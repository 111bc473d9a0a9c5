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
}

/**
 * The baseline of `sha` on `hardwareClass` once `needed` validated runs of it exist, else null.
 * Only runs of that exact commit count: a baseline of an older default branch is stale.
 */
export function baselineFromRuns(runs: BaselineRun[], hardwareClass: string, sha: string, needed: number): (Baseline & { job_ids: string[] }) | null {
  const mine = runs.filter((r) => r.hardware_class === hardwareClass && r.sha === sha);
  if (mine.length < needed) return null;
  const { mean, sigma, n } = meanSigma(mine.map((r) => r.val_bpb));
  const tps = meanSigma(mine.map((r) => r.tokens_per_second)).mean;
  return { hardware_class: hardwareClass, sha, mean, sigma, n, tokens_per_second: tps, job_ids: mine.map((r) => r.job_id) };
}
