// Job ids. The nonce a run must echo is also the job's id in the ledger; it carries the ids of
// the PR's check run and sticky comment, so scoring a result needs no look-up to find them.
// Format: `<check_run_id>-<comment_id>-<24 hex random>` (0 where there is none, e.g. baselines).
import { randomBytes } from 'node:crypto';

export function newJobId(refs: { check: number | null; comment: number | null }): string {
  return `${refs.check ?? 0}-${refs.comment ?? 0}-${randomBytes(12).toString('hex')}`;
}

export function jobRefs(jobId: string): { check: number | null; comment: number | null } {
  const m = /^(\d+)-(\d+)-[0-9a-f]{24}$/.exec(jobId);
  if (!m) return { check: null, comment: null };
  const n = (s: string) => (s === '0' ? null : Number(s));
  return { check: n(m[1]), comment: n(m[2]) };
}
