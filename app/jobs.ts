// Job ids. The nonce a run must echo is also the job's id in the ledger; it carries the ids of
// the PR's check run and sticky comment, so scoring a result needs no look-up to find them.
// Format: `<check_run_id>-<comment_id>-<24 hex random>`, 0 where there is none (e.g. baselines).
// The comment field is `n` for a PR opened and dispatched at once: it has no sticky comment yet,
// and the result creates it without listing the PR's comments first.
// read at call time (crypto.randomBytes), so the simulator can seed it: see sim/determinism.ts
import crypto from 'node:crypto';

export interface JobRefs {
  check: number | null;
  /** the sticky comment's id, or null when unknown (look it up) */
  comment: number | null;
  /** the PR has no sticky comment yet: create it */
  newComment: boolean;
}

export function newJobId(refs: { check: number | null; comment: number | null; newComment?: boolean }): string {
  return `${refs.check ?? 0}-${refs.newComment ? 'n' : (refs.comment ?? 0)}-${crypto.randomBytes(12).toString('hex')}`;
}

export function jobRefs(jobId: string): JobRefs {
  const m = /^(\d+)-(\d+|n)-[0-9a-f]{24}$/.exec(jobId);
  if (!m) return { check: null, comment: null, newComment: false };
  const n = (s: string) => (s === '0' || s === 'n' ? null : Number(s));
  return { check: n(m[1]), comment: n(m[2]), newComment: m[2] === 'n' };
}
