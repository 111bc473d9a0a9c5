// The merge rule: a sequential test on the mean of independent runs. Pure: plain numbers in, a
// verdict out. The derivation of the knobs from the noise model is in docs/trust.md ("The merge
// rule"); in short, with σ the class's run-to-run sigma and m the baseline's runs, the mean of n
// independent runs differs from the baseline by the true gain plus noise of standard error
// SE(n) = σ·sqrt(1/n + 1/m). A run (or a mean) "scores z" when it beats the baseline by z·SE.
import type { Baseline } from './baseline.js';
import { widen } from '../../ledger/agreement.js';

export interface Margin {
  /** merge when the mean of the independent runs scores at least `k` (a null change merges with p < 1e-3) */
  k: number;
  /** ... and beats the baseline by at least `min_delta` bpb (an improvement too small to be worth a merge) */
  min_delta: number;
}

export interface Sequential {
  /** the first run is a claim (re-run by other owners) when it scores at least `screen` */
  screen: number;
  /** after the first run, stop and discard while the mean scores below `futility` */
  futility: number;
  /** runs by distinct owners at most; undecided then, it is discarded */
  max_runs: number;
}

export interface Scale {
  mean: number;
  /** the class's run-to-run sigma (pooled over its baselines) */
  sigma: number;
  /** runs the baseline's mean rests on */
  n: number;
  /** degrees of freedom of `sigma` (absent: taken as exact) */
  df?: number;
}

// `widen` lives with the ledger's agreement rules (the audit recomputes tolerances with it; the ledger imports nothing of the App)
export { widen };

/** The standard error of the difference between the mean of `runs` runs and the baseline. */
export function standardError(b: Scale, runs: number): number {
  return b.sigma * Math.sqrt(1 / runs + 1 / Math.max(1, b.n));
}

/** By how many standard errors the mean of `runs` runs beats the baseline (0 when sigma is 0 and it does not). */
export function score(b: Scale, mean: number, runs: number): number {
  const se = standardError(b, runs);
  const gain = b.mean - mean;
  return se > 0 ? gain / se : gain > 0 ? Infinity : 0;
}

/** The val_bpb the mean of `runs` runs must beat to merge: mean - max(k * SE(runs), min_delta), k widened for sigma's degrees of freedom. */
export function mergeThreshold(b: Scale, margin: Margin, runs: number): number {
  return b.mean - Math.max(widen(margin.k, b.df) * standardError(b, runs), margin.min_delta);
}

/** The val_bpb a first run must beat to be a claim (re-run by other owners before anything merges). */
export function screenThreshold(b: Scale, seq: Sequential): number {
  return b.mean - seq.screen * standardError(b, 1);
}

export type Step =
  | { kind: 'merge'; threshold: number; z: number }
  | { kind: 'discard'; threshold: number; z: number; why: string }
  | { kind: 'more'; threshold: number; z: number };

/**
 * One step of the sequential test on the mean of `runs` independent runs (distinct owners, none
 * the PR's author). `quorum + 1` runs at least before a merge; below the screen (first run) or
 * the futility bound (later) it stops with a discard; at `max_runs` undecided, a discard.
 */
export function step(b: Scale, mean: number, runs: number, o: { margin: Margin; seq: Sequential; quorum: number }): Step {
  const z = score(b, mean, runs);
  const t = mergeThreshold(b, o.margin, runs);
  if (runs >= o.quorum + 1 && mean < t) return { kind: 'merge', threshold: t, z };
  const stop = runs === 1 ? o.seq.screen : o.seq.futility;
  if (z < stop) {
    return { kind: 'discard', threshold: t, z, why: `${runs === 1 ? 'the run' : `the mean of ${runs} independent runs`} beats the baseline by ${z.toFixed(2)} standard errors, below the ${runs === 1 ? 'screen' : 'futility bound'} of ${stop}` };
  }
  if (runs >= o.seq.max_runs) return { kind: 'discard', threshold: t, z, why: `after ${runs} independent runs the mean beats the baseline by ${z.toFixed(2)} standard errors, short of the ${widen(o.margin.k, b.df).toFixed(2)} a merge needs` };
  return { kind: 'more', threshold: t, z };
}

export type Verdict =
  | { kind: 'no_baseline' }
  | { kind: 'improvement'; threshold: number; delta: number }
  | { kind: 'no_improvement'; threshold: number; delta: number };

/** Whether one first-run score is a claim (passes the screen) against its class baseline. */
export function judge(valBpb: number, baseline: Pick<Baseline, 'mean' | 'sigma' | 'n'> | null, seq: Sequential): Verdict {
  if (!baseline) return { kind: 'no_baseline' };
  const t = screenThreshold(baseline, seq);
  const delta = valBpb - baseline.mean;
  return valBpb < t ? { kind: 'improvement', threshold: t, delta } : { kind: 'no_improvement', threshold: t, delta };
}

/** Runs of one code on one class by distinct owners (their values, or a baseline's sample sigma and count). */
export type RunGroup = { hardware_class: string } & ({ values: number[] } | { sigma: number; n: number });

/**
 * The run-to-run sigma of a class pooled over groups of runs of the same code by distinct owners
 * (each group's sum of squared deviations over the total degrees of freedom, n - 1 per group).
 * Baselines are groups; so are the replicas of a claim (never the claim itself: it was selected for
 * beating the screen, so it is biased low). One baseline's five runs estimate sigma within ~35%; the
 * pooled figure converges as groups accumulate, and its degrees of freedom widen the merge bound
 * (`widen`) while it is young. Null when no group of the class has two runs.
 */
export function pooledSigma(groups: Iterable<RunGroup>, cls: string): { sigma: number; df: number } | null {
  let ss = 0;
  let df = 0;
  for (const g of groups) {
    if (g.hardware_class !== cls) continue;
    if ('values' in g) {
      if (g.values.length < 2) continue;
      const m = g.values.reduce((a, b) => a + b, 0) / g.values.length;
      ss += g.values.reduce((a, v) => a + (v - m) ** 2, 0);
      df += g.values.length - 1;
    } else if (g.n >= 2 && Number.isFinite(g.sigma)) {
      ss += (g.n - 1) * g.sigma * g.sigma;
      df += g.n - 1;
    }
  }
  return df > 0 ? { sigma: Math.sqrt(ss / df), df } : null;
}
