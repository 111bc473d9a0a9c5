// Replays (docs/trust.md, "Replays"): the one rule by which the runs of a replayed result (the
// original, then its replays: the same seeds, budget and progress schedule) are judged, used by
// the App when it judges them (app/policy/replays.ts) and by the trust fold and `npm run ledger
// -- verify` when they recompute the verdict from the digests the `replay_judged` entry reveals.
// Pure.
import { createHash } from 'node:crypto';

/** Backends whose training is bit-reproducible for the same seeds and schedule (any kernel thread count). */
export const DETERMINISTIC_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/** How the runs of a replay are compared: the checkpoint digest (deterministic backends) or val_bpb within a tolerance (GPU). */
export type ReplayBy = 'digest' | 'val_bpb';

export interface ReplayRun {
  job_id: string;
  /** the checkpoint's sha256 the run sealed (revealed once judged), null when it sealed none (a failed run) */
  digest: string | null;
  /** null: the run failed */
  val_bpb: number | null;
}

export type ReplayVerdict =
  /** a replay disagreed and no group holds the quorum yet: another owner's replay is run */
  | { verdict: 'pending' }
  /** `group`: the runs that agree (the original among them when `agreed`); `outvoted`: runs that agree with none of them */
  | { verdict: 'agreed' | 'outvoted'; group: string[]; outvoted: string[] }
  /** no two runs agree: the candidate is not replayable (it reads something besides its seeds and schedule); nobody is faulted */
  | { verdict: 'not_replayable'; group: []; outvoted: [] };

/** How the replays of a run on `backend` are compared (`deterministic`: the trust policy's deterministic backends). */
export function replayBy(backend: string, deterministic: readonly string[] = DETERMINISTIC_BACKENDS): ReplayBy {
  return deterministic.includes(backend) ? 'digest' : 'val_bpb';
}

/**
 * Two runs of one replay agree: on a deterministic backend when they ended with the same
 * checkpoint (digest) and scored it the same; otherwise when their scores are within
 * `tolerance`, except that the very same score from another checkpoint is a copy of the public
 * score, not a replay (non-deterministic kernels never repeat a score to the last bit without
 * repeating the checkpoint). A failed run reproduces nothing.
 */
export function replaysAgree(a: ReplayRun, b: ReplayRun, by: ReplayBy, tolerance: number): boolean {
  if (a.val_bpb === null || b.val_bpb === null) return false;
  if (by === 'digest') return a.digest !== null && a.digest === b.digest && Math.abs(a.val_bpb - b.val_bpb) <= 1e-9;
  if (a.val_bpb === b.val_bpb && a.digest !== b.digest) return false;
  return Math.abs(a.val_bpb - b.val_bpb) <= tolerance + 1e-12;
}

/** Replay verdicts need this many agreeing runs to outvote one when the policy says nothing (older ledgers): two. */
export const DEFAULT_OUTVOTE_QUORUM = 2;

/** The most runs (the original and its replays) a verdict with `quorum` may take: 2·quorum − 1, after which one group must hold a majority or none will. */
export const maxReplayRuns = (quorum: number = DEFAULT_OUTVOTE_QUORUM) => 2 * Math.max(2, quorum) - 1;

/**
 * The verdict on a run (first) and its replays so far, in order. Runs that all agree (two at
 * least) are `agreed`. Once any run disagrees, the largest group agreeing with one of its runs
 * (the first centre wins a tie, so the original's group when it has one) decides only when it
 * holds `quorum` runs, all of distinct owners: a run agreeing with none of the group is then
 * outvoted (a fault). Until then the verdict is `pending` and another owner's replay is run. When
 * no group can reach `quorum` within maxReplayRuns(quorum) runs, the candidate is
 * `not_replayable` (it reads something besides its seeds and schedule): nobody is faulted.
 *
 * `quorum` 2 (older ledgers) lets two owners who agree with each other outvote anyone: a pair of
 * colluding owners drawn as the two replayers of an honest run framed it (a fault, its pending
 * credits reversed, a ban at the second), or, reporting two different results, made it not
 * replayable (its credit reversed). With 3 no two owners together can fault anyone or deny a
 * run its credit: a third owner must agree with them (docs/trust.md, "Replays").
 */
export function replayVerdict(runs: readonly ReplayRun[], by: ReplayBy, tolerance: number, quorum: number = DEFAULT_OUTVOTE_QUORUM): ReplayVerdict {
  if (runs.length < 2) return { verdict: 'pending' };
  const q = Math.max(2, quorum);
  const agree = (a: ReplayRun, b: ReplayRun) => a === b || replaysAgree(a, b, by, tolerance);
  let group: ReplayRun[] = [];
  for (const c of runs) {
    const g = runs.filter((x) => agree(c, x));
    if (g.length > group.length) group = g;
  }
  const outvoted = runs.filter((x) => !group.some((g) => agree(g, x))).map((x) => x.job_id);
  const decided = group.length >= 2 && (outvoted.length === 0 || group.length >= q);
  if (decided) return { verdict: group.includes(runs[0]) ? 'agreed' : 'outvoted', group: group.map((g) => g.job_id), outvoted };
  // undecided: can a group still reach the quorum with the runs left?
  if (Math.max(group.length, 1) + (maxReplayRuns(q) - runs.length) < q) return { verdict: 'not_replayable', group: [], outvoted: [] };
  return { verdict: 'pending' };
}

/**
 * What a result entry commits to when the App opens a sealed digest at intake: sha256 of the
 * digest and the job's nonce. The digest stays secret until its replays are judged; the
 * `replay_judged` entry then reveals it, and anyone can check it against this commitment.
 */
export function digestCommitment(digest: string, jobId: string): string {
  return createHash('sha256').update(`${digest}${jobId}`).digest('hex');
}
