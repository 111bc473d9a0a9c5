// The noise model of docs/trust.md ("The merge rule") as a Monte Carlo, in units of the class's run
// sigma: a run of a change of true gain `delta` scores delta + N(0, 1); the baseline is the mean of
// `m` runs; the class's sigma is estimated with `df` degrees of freedom (a chi-square draw,
// Wilson-Hilferty), which widens the bound (decide.ts `widen`). The merge rule itself is the App's
// (decide.ts `step`). Used by test/app/power.test.ts and for the figures of docs/trust.md 2a.
import { step, type Scale } from '../../app/policy/decide.js';

export interface Rule {
  /** baseline runs */
  m: number;
  /** degrees of freedom of the class's sigma */
  df: number;
  k: number;
  max_runs: number;
  /** the screen a first run must pass (verification.screen; default 1, the figures of docs/trust.md 2a before session 13) */
  screen?: number;
}

export function mulberry32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Draws {
  constructor(private rng: () => number) {}
  normal(): number {
    return Math.sqrt(-2 * Math.log(Math.max(this.rng(), 1e-12))) * Math.cos(2 * Math.PI * this.rng());
  }
  /** an estimate of sigma = 1 with `df` degrees of freedom: chi-square / df by Wilson-Hilferty, (1 - 2/(9 df) + z sqrt(2/(9 df)))^3 */
  sigma(df: number): number {
    const h = 2 / (9 * df);
    return Math.sqrt(Math.max(0, 1 - h + this.normal() * Math.sqrt(h)) ** 3);
  }
}

/**
 * The sequential test on one change of true score `truth` against baseline `b`: its runs (first the
 * claim), and whether it merged. `noise`: the runs' noise drawn in advance (common random numbers).
 */
function claimRuns(d: Draws, b: Scale, truth: number, r: Rule, noise?: number[]): { runs: number[]; merged: boolean } {
  const opts = { margin: { k: r.k, min_delta: 0 }, seq: { screen: r.screen ?? 1, futility: 1.5, max_runs: r.max_runs }, quorum: 2 };
  const runs: number[] = [];
  let sum = 0;
  for (;;) {
    const x = truth + (noise ? noise[runs.length] : d.normal());
    runs.push(x);
    sum += x;
    const s = step(b, sum / runs.length, runs.length, opts);
    if (s.kind !== 'more') return { runs, merged: s.kind === 'merge' };
  }
}

/** A change of true gain `delta` against a baseline of m fresh runs: the share merged and the runs it took. */
export function sequential(o: Rule & { delta: number; trials: number; seed: number }): { merged: number; runs: number } {
  const d = new Draws(mulberry32(o.seed));
  let merged = 0;
  let runs = 0;
  for (let t = 0; t < o.trials; t++) {
    const b = { mean: d.normal() / Math.sqrt(o.m), sigma: d.sigma(o.df), n: o.m, df: o.df };
    const c = claimRuns(d, b, o.delta, o);
    runs += c.runs.length;
    if (c.merged) merged++;
  }
  return { merged: merged / o.trials, runs: runs / o.trials };
}

export interface AfterMerge {
  /** the share of the next changes merged, and the runs they took */
  merged: number;
  runs: number;
  /** fresh baseline runs the merge cost */
  fresh: number;
  /** the new baseline's error: its mean less the truth, on average */
  bias: number;
}

/**
 * The change after a merge, with and without reusing the merged claim's runs in the new baseline.
 * A change of true gain `first` (default -3) merges against a baseline of m fresh runs (trials
 * where it does not are drawn again). The new default branch's baseline is m runs: the merged
 * claim's runs (at most m - 1, as the App takes them) and fresh runs for the rest (`reuse`), or m
 * fresh runs (`fresh`). Then a change of true gain `delta` over the new default branch is judged
 * against each, on the same draws (common random numbers: the comparison is paired).
 */
export function afterMerge(o: Rule & { delta: number; trials: number; seed: number; first?: number }): { fresh: AfterMerge; reuse: AfterMerge } {
  const d = new Draws(mulberry32(o.seed));
  const first = o.first ?? -3;
  const sum = () => ({ merged: 0, runs: 0, fresh: 0, bias: 0 });
  const acc = { fresh: sum(), reuse: sum() };
  for (let t = 0; t < o.trials; ) {
    const old = { mean: d.normal() / Math.sqrt(o.m), sigma: d.sigma(o.df), n: o.m, df: o.df };
    const a = claimRuns(d, old, first, o);
    if (!a.merged) continue;
    t++;
    const draws = Array.from({ length: o.m }, () => first + d.normal());
    const sigma = d.sigma(o.df);
    const next = Array.from({ length: Math.max(o.max_runs, 3) }, () => d.normal());
    for (const way of ['fresh', 'reuse'] as const) {
      const reused = way === 'reuse' ? a.runs.slice(0, o.m - 1) : [];
      const samples = [...reused, ...draws.slice(reused.length)];
      const mean = samples.reduce((x, y) => x + y, 0) / o.m;
      const c = claimRuns(d, { mean, sigma, n: o.m, df: o.df }, first + o.delta, o, next);
      const s = acc[way];
      s.fresh += o.m - reused.length;
      s.bias += mean - first;
      s.runs += c.runs.length;
      if (c.merged) s.merged++;
    }
  }
  const per = (s: AfterMerge): AfterMerge => ({ merged: s.merged / o.trials, runs: s.runs / o.trials, fresh: s.fresh / o.trials, bias: s.bias / o.trials });
  return { fresh: per(acc.fresh), reuse: per(acc.reuse) };
}
