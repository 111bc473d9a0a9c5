// Which PR commits the App has acted on, read from the ledger: a commit seen is not handled twice
// (redeliveries, a second process, the reconcile pass), one set aside may run again.
import type { EntryDataOf, LedgerEntry } from '../ledger/index.js';
import type { LedgerView } from './ledger-view.js';
import { pendingMerges } from './merge.js';

/** Reasons a job or queue entry ends without its commit being judged: such a commit may run again. */
export const SUPERSEDED = 'superseded by a push of ';
export const closedReason = (pr: number) => `PR #${pr} was closed`;

/** `pr@sha` of the PR commits the App has acted on and not set aside (so they need nothing now). */
export function seenHeads(view: LedgerView): Set<string> {
  const seen = new Set<string>(view.decided);
  for (const q of view.queue.values()) seen.add(`${q.pr}@${q.sha}`);
  for (const j of view.open) if (j.pr !== null && j.role !== 'baseline' && !view.longRuns.has(j.job_id)) seen.add(`${j.pr}@${j.sha}`);
  for (const p of pendingMerges(view.entries)) seen.add(`${p.pr}@${p.sha}`);
  for (const e of view.entries as LedgerEntry[]) {
    if (e.type === 'experiment_rejected') {
      const d = e.data as EntryDataOf<'experiment_rejected'>;
      seen.add(`${d.pr}@${d.sha}`);
    } else if (e.type === 'result_recorded') {
      const d = e.data as EntryDataOf<'result_recorded'>;
      if (d.pr === null || d.role === 'baseline' || view.longRuns.has(d.job_id)) continue;
      // closed unjudged (superseded, PR closed): the commit may be the head again and run again
      if (d.result === null && d.reason !== null && (d.reason.startsWith(SUPERSEDED) || d.reason === closedReason(d.pr))) continue;
      seen.add(`${d.pr}@${d.sha}`);
    }
  }
  return seen;
}

