// Which runs of one job agree: the one rule by which the App forms the agreeing group of a job's
// runs (app/policy/replication.ts judgeReplicas) and by which `npm run ledger -- verify` checks a
// recorded owner_faulted entry (audit.ts), so that the two cannot drift apart. Pure.
import { runsAgree } from './trust.js';

type Score = (number | null);

/**
 * The largest group of runs agreeing with one of them, its centre (the first such centre wins a
 * tie), in the order given. Each member agrees with the centre, so two members may score up to
 * twice the tolerance apart: the group is not pairwise agreeing.
 */
export function largestAgreeingGroup<T>(runs: readonly T[], score: (r: T) => Score, tolerance: number): T[] {
  let group: T[] = [];
  for (const c of runs) {
    const g = runs.filter((x) => runsAgree(score(c), score(x), tolerance));
    if (g.length > group.length) group = g;
  }
  return group;
}

/**
 * Whether runs scoring `scores` form a group of the kind largestAgreeingGroup returns: one of them
 * (the centre) agrees with every one. Says nothing of whether the group is the largest.
 */
export function isAgreeingGroup(scores: readonly Score[], tolerance: number): boolean {
  return scores.some((c) => scores.every((x) => runsAgree(c, x, tolerance)));
}

/** The first member of `group` a run scoring `score` agrees with (its index), or -1 when it agrees with none: it is outvoted. */
export function agreesWithMember(score: Score, group: readonly Score[], tolerance: number): number {
  return group.findIndex((g) => runsAgree(g, score, tolerance));
}

/**
 * The bound `z` of a normal test, widened for a sigma estimated with `df` degrees of freedom: the
 * Student t quantile of the same tail probability (Cornish-Fisher expansion to 1/df^3; within 1%
 * of the exact quantile for df >= 8 at z = 3.5, 7% below it at df 4). Eight baseline runs' worth of sigma (df 8) turn k = 3.5 into ~5.6; a
 * hundred, into ~3.7. An underestimated sigma would otherwise merge noise: one class's first two
 * baselines in the simulator estimated its sigma 28% low and a null change merged at "4.0 standard errors".
 */
export function widen(z: number, df: number | undefined): number {
  if (df === undefined || !Number.isFinite(df)) return z;
  const d = Math.max(1, df);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d ** 3);
}
