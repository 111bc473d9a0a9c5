// A ban re-tries the discards it taints (app/policy/retrials.ts decides which): each such PR
// commit is queued again, at the swarm's cost (its author paid once: app/heads.ts paidHeads), if
// its PR still shows that commit; a PR the App closed on its discard (`close_on_discard`) is
// reopened first. Whatever GitHub says, one ledger entry settles the retrial (queued, or dequeued
// with the reason it was not tried), so a tick never asks twice. The reconcile pass brings the
// label and check run in line with the ledger afterwards.
import type { LedgerEntry, NewEntry } from '../ledger/index.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { viewOf, type LedgerView } from './ledger-view.js';
import { stateComment } from './messages.js';
import { retrialsDue, type Retrial } from './policy/retrials.js';
import { appendBuilt, type Session } from './session.js';

const still = (entries: LedgerEntry[], view: LedgerView, r: Retrial) =>
  retrialsDue(entries.length === view.entries.length ? view : viewOf(entries)).some((x) => x.pr === r.pr && x.sha === r.sha);

/** One reconcile step: every due retrial queued again or settled with the reason it cannot be. */
export async function retryDiscards(s: Session, view: LedgerView, failures: unknown[]): Promise<LedgerView> {
  const due = retrialsDue(view);
  for (const r of due) {
    try {
      await retry(s, view, r);
    } catch (e) {
      failures.push(e);
      s.log.warn(`reconcile: re-trying PR #${r.pr} failed (${(e as Error).message}); the next tick repeats it`);
    }
    view = viewOf(await s.ledger.read());
  }
  return view;
}

async function retry(s: Session, view: LedgerView, r: Retrial): Promise<void> {
  const who = r.owners.join(' and ');
  const why = `it was discarded on a run of ${who}, banned since`;
  const { data: pull } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: r.pr });
  let skip: string | null = null;
  if (pull.merged) skip = 'the PR was merged';
  else if (pull.head.sha !== r.sha) skip = `the PR's head is now ${pull.head.sha.slice(0, 7)}`;
  else if (pull.state !== 'open' && !(s.cfg.config.close_on_discard && s.cfg.mayAct)) skip = 'the PR is closed';
  if (!skip && pull.state !== 'open') {
    // the App closed it on the discard (close_on_discard): reopened, it is the experiment again
    try {
      await s.octokit.rest.pulls.update({ ...s.repo, pull_number: r.pr, state: 'open' });
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status !== 422 && status !== 403 && status !== 404) throw e;
      skip = `the PR could not be reopened (${status}: ${(e as Error).message})`;
    }
  }
  const refs = jobRefs(r.job_id);
  const entry: NewEntry = skip
    ? { type: 'experiment_dequeued', data: { pr: r.pr, sha: r.sha, reason: `not tried again although ${why}: ${skip}` } }
    : // at the swarm's cost: its author paid for the run the ban voided (app/heads.ts paidHeads)
      { type: 'experiment_queued', data: { pr: r.pr, sha: r.sha, author: r.author, title: r.title, check: refs.check, comment: refs.comment, waiting_for: null, prepaid: true } };
  let appended = false;
  await appendBuilt(s, view.entries, (entries) => {
    appended = still(entries, view, r);
    return appended ? [entry] : [];
  });
  if (!appended) return;
  s.log.info(`reconcile: PR #${r.pr} at ${r.sha.slice(0, 7)}: ${why}; ${skip ? `not tried again (${skip})` : 'queued again'}`);
  if (!skip) {
    const text = `\`${r.sha.slice(0, 7)}\` was discarded on a run of ${who}, whose runner owner has been banned since: a ban voids every run of theirs that no bit-exact replay proved. It is queued to run again on another owner's runner, at the swarm's cost.`;
    await writeSticky(s.octokit, s.repo, r.pr, stateComment('Experiment queued again', [text], s.cfg.notice), { knownId: refs.comment ?? null });
  }
}
