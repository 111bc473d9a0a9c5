// Appending a job's outcome once: built on the chain really appended to, so a redelivered event
// or a second App process finds the work recorded and appends nothing; with the credit grants
// the new entries make due.
import { appendEntries, type EntryDataOf, type LedgerEntry, type NewEntry } from '../ledger/index.js';
import { grantsDue, viewOf, type LedgerView } from './ledger-view.js';
import { appendBuilt, type Session } from './session.js';

/** `news` plus the credit grants they make due. */
export function withGrants(view: LedgerView, news: NewEntry[]): NewEntry[] {
  const simulated = viewOf([...view.entries, ...appendEntries(view.entries, news)]);
  return [...news, ...grantsDue(simulated)];
}

/**
 * What to append for a job's result, built on the chain actually appended to: nothing (null)
 * when that chain already records a result for the job, i.e. another App process (or a
 * redelivered webhook) got there first.
 */
export function once(view: LedgerView, jobId: string, news: NewEntry[]): (entries: LedgerEntry[]) => NewEntry[] | null {
  return (entries) => {
    const v = entries.length === view.entries.length ? view : viewOf(entries);
    return v.state.results.has(jobId) ? null : withGrants(v, v === view ? news : rebaseReversals(v, news));
  };
}

/**
 * Reversals decided on a view older than the chain they land on, restated on that chain: a job
 * granted since is reversed in full (its grant's amount, not the 0 of a still pending result),
 * and a job reversed since is not reversed twice. (Found by the fault run: a process whose view
 * predated a grant reversed it at 0, and the ledger's audit failed.)
 */
export function rebaseReversals(v: LedgerView, news: NewEntry[]): NewEntry[] {
  const reversed = new Set<string>();
  const out: NewEntry[] = [];
  for (const n of news) {
    if (n.type !== 'credit_reversed') {
      out.push(n);
      continue;
    }
    const d = n.data as EntryDataOf<'credit_reversed'>;
    if (v.state.reversals.has(d.job_id) || reversed.has(d.job_id)) continue;
    reversed.add(d.job_id);
    out.push({ ...n, data: { ...d, amount: v.state.grants.get(d.job_id)?.data.amount ?? 0 } });
  }
  return out;
}

/** Appends `news` plus the grants they make due, once per job; null when already recorded. */
export async function record(s: Session, view: LedgerView, jobId: string, news: NewEntry[], files: Record<string, string> = {}): Promise<LedgerView | null> {
  const r = await recordUnless(s, view, jobId, news, files, () => false);
  return r === 'vetoed' ? null : r;
}

/**
 * record(), unless `veto` says of the chain really appended to (newer than `view`: another
 * process's entries since) that the news were decided on a view too old: then nothing is appended
 * and the caller judges again on that chain (the store's view is the newer one now).
 */
export async function recordUnless(s: Session, view: LedgerView, jobId: string, news: NewEntry[], files: Record<string, string>, veto: (newer: LedgerView) => boolean): Promise<LedgerView | null | 'vetoed'> {
  const build = once(view, jobId, news);
  let skipped = false;
  let vetoed = false;
  const added = await appendBuilt(s, view.entries, (entries) => {
    const b = build(entries);
    skipped = b === null;
    vetoed = b !== null && entries.length !== view.entries.length && veto(viewOf(entries));
    return vetoed ? [] : (b ?? []);
  }, vetoed ? {} : files);
  if (vetoed) return 'vetoed';
  if (skipped) return null;
  // If another writer appended meanwhile, the store re-sequenced after it; read it back only then.
  const first = added[0]?.seq ?? view.entries.length;
  return first === view.entries.length ? viewOf([...view.entries, ...added]) : viewOf(await s.ledger.read());
}


/**
 * Records a run that names a nonce this process's view does not know (a stray), unless the chain
 * really appended to holds a job of that nonce: a process whose view predates the dispatch (a
 * second App process dispatched it, or this one's view is minutes old) must not close another's
 * job as stray. Returns 'known' then (the store has read the chain anew: handle the run again).
 */
export async function recordStray(s: Session, view: LedgerView, jobId: string, news: NewEntry[]): Promise<LedgerView | 'known' | null> {
  let known = false;
  let skipped = false;
  await appendBuilt(s, view.entries, (entries) => {
    known = entries.some((e) => e.type === 'job_dispatched' && (e.data as { job_id: string }).job_id === jobId);
    skipped = known || entries.some((e) => e.type === 'result_recorded' && (e.data as { job_id: string }).job_id === jobId);
    return skipped ? [] : news;
  });
  if (known) return 'known';
  return skipped ? null : viewOf(await s.ledger.read());
}
