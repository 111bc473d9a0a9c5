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
