// Which PR commits the App has acted on, read from the ledger: a commit seen is not handled twice
// (redeliveries, a second process, the reconcile pass), one set aside may run again.
import type { EntryDataOf, LedgerEntry, NewEntry } from '../ledger/index.js';
import type { LedgerView } from './ledger-view.js';
import { pendingMerges } from './merge.js';
import { decidedSince, runStanding } from './policy/side-replays.js';
import { PROMPT_START_MS } from './starts.js';

/** Reasons a job or queue entry ends without its commit being judged: such a commit may run again. */
export const SUPERSEDED = 'superseded by a push of ';
export { closedReason } from './ledger-view.js';
import { closedReason } from './ledger-view.js';

/** `pr@sha` of the PR commits the App has acted on and not set aside (so they need nothing now). */
export function seenHeads(view: LedgerView): Set<string> {
  const seen = new Set<string>(view.decided);
  for (const q of view.queue.values()) seen.add(`${q.pr}@${q.sha}`);
  for (const j of view.open) if (j.pr !== null && j.role !== 'baseline' && !view.longRuns.has(j.job_id)) seen.add(`${j.pr}@${j.sha}`);
  for (const p of pendingMerges(view.entries)) seen.add(`${p.pr}@${p.sha}`);
  for (const e of view.entries as LedgerEntry[]) {
    if (e.type === 'experiment_rejected' || e.type === 'experiment_outdated') {
      const d = e.data as { pr: number; sha: string };
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


/** Entries that move a PR commit from one state to the next (baselines and long runs aside). */
const STEPS = new Set(['experiment_queued', 'job_dispatched', 'merge_intended', 'merge_abandoned', 'experiment_merged', 'experiment_discarded', 'experiment_rejected', 'experiment_outdated']);
const FINAL = new Set(['experiment_merged', 'experiment_discarded', 'experiment_rejected', 'merge_abandoned', 'experiment_outdated']);

/**
 * How long after the App asked GitHub to update an outdated PR's branch (experiment_outdated,
 * `requested`) the PR's head may still be the old commit before the reconcile pass counts it lost
 * and queues it again (its dispatch then asks again, or finds the update refused).
 */
export const UPDATE_GRACE_MS = 15 * 60_000;

/** Whether a job_dispatched entry is a replay of a baseline or fresh-seed verify run (app/policy/side-replays.ts): no step of its PR. */
export function sideReplayEntry(view: LedgerView, d: { replay?: string; verifies?: string | null }): boolean {
  return !!d.replay && !!d.verifies && view.state.trust.replayDue.has(d.verifies);
}

/**
 * Whether the App has lost track of a PR commit: it was acted on, but is neither queued, running,
 * being merged nor judged (e.g. its job was closed by a process that misread it, or a handler
 * failed between two records that belong together). A merge refused by GitHub (merge_abandoned
 * without a re-queue) waits for its author's push: not lost; so does an outdated commit, unless
 * the update of its branch asked for (`now` given) never came. One pass over the ledger; the
 * function it returns answers per commit.
 */
export function lostTrack(view: LedgerView, now?: number): (pr: number, sha: string) => boolean {
  const last = new Map<string, string>();
  const asked = new Map<string, number>(); // an update of the branch asked for, and when
  for (const e of view.entries as LedgerEntry[]) {
    if (!STEPS.has(e.type)) continue;
    const d = e.data as { pr?: number | null; sha?: string; role?: string; job_id?: string; replay?: string; verifies?: string | null };
    if (d.pr == null || d.sha === undefined) continue;
    if (e.type === 'job_dispatched' && (d.role === 'baseline' || view.longRuns.has(d.job_id!))) continue;
    // a replay of a fresh-seed verify run settles that run's credit and trust, not the PR: sent after
    // the PR was decided (the seed-1 fault run), it is no step, or the PR looked lost once it ran and
    // was queued and trained again
    if (e.type === 'job_dispatched' && sideReplayEntry(view, d)) continue;
    last.set(`${d.pr}@${d.sha}`, e.type);
    if (e.type === 'experiment_outdated' && (d as { update?: string }).update === 'requested') asked.set(`${d.pr}@${d.sha}`, Date.parse(e.time));
    else asked.delete(`${d.pr}@${d.sha}`);
  }
  const live = new Set<string>();
  for (const q of view.queue.values()) live.add(`${q.pr}@${q.sha}`);
  for (const j of view.open) if (j.pr !== null && j.role !== 'baseline' && !view.longRuns.has(j.job_id)) live.add(`${j.pr}@${j.sha}`);
  for (const p of pendingMerges(view.entries)) live.add(`${p.pr}@${p.sha}`);
  for (const k of awaitingReplay(view).keys()) live.add(k);
  return (pr, sha) => {
    const k = `${pr}@${sha}`;
    const step = last.get(k);
    if (live.has(k) || step === undefined) return false;
    // the head is still the outdated commit long after GitHub was asked to update the branch
    if (asked.has(k)) return now !== undefined && now - asked.get(k)! >= UPDATE_GRACE_MS;
    return !FINAL.has(step);
  };
}

/**
 * `pr@sha` of the commits whose claim (the commit's latest first run) waits for the replay of one
 * of its verify runs (app/policy/side-replays.ts runStanding: `awaiting`): the scheduler sends that
 * replay once an owner who may run it is online, and its verdict continues the claim (judge.ts).
 * No job of the commit need be open meanwhile: between a refused replay's record and the next
 * one's dispatch (a fault between the two), or while no eligible owner is online. Such a commit
 * counted as lost once: queued again, its first run was trained a second time (the fault run,
 * seed 1; test/app/held-claim.test.ts).
 */
function awaitingReplay(view: LedgerView): Map<string, string> {
  const claims = new Map<string, string>();
  for (const j of view.jobs.values()) if (j.pr !== null && j.role === 'candidate' && !view.longRuns.has(j.job_id)) claims.set(`${j.pr}@${j.sha}`, j.job_id);
  const out = new Map<string, string>();
  for (const id of view.state.trust.replayDue) {
    const j = view.jobs.get(id);
    if (!j || j.role !== 'verify' || j.pr === null || !j.verifies || j.replay || claims.get(`${j.pr}@${j.sha}`) !== j.verifies) continue;
    if (runStanding(view, id) === 'awaiting') out.set(`${j.pr}@${j.sha}`, j.verifies);
  }
  return out;
}

/**
 * What a close of PR `pr` records for its commits whose claim waits for the replay of one of its
 * verify runs (awaitingReplay), no job of the PR open and none queued: experiment_dequeued "PR #n
 * was closed", once per claim. The replay runs on (it settles its run's credit); the claim ends.
 * With no mark, the reopened commit ran again for its one payment (its first run re-rolled at the
 * swarm's cost, as closeUsesPayment stops for a close while a verify run is out) and the claim's
 * first run was never paid (test/app/closed-claim.test.ts).
 */
export function heldClaimsClosed(view: LedgerView, pr: number): NewEntry<'experiment_dequeued'>[] {
  const out: NewEntry<'experiment_dequeued'>[] = [];
  for (const [k, claimId] of awaitingReplay(view)) {
    const sha = k.slice(k.indexOf('@') + 1);
    // (a claim decided since, the PR closed on its discard, was no claim under way: nothing to end)
    if (k.startsWith(`${pr}@`) && !decidedSince(view, pr, sha, claimId) && !closedSince(view, pr, sha, claimId)) out.push({ type: 'experiment_dequeued', data: { pr, sha, reason: closedReason(pr) } });
  }
  return out;
}

/** The PRs with a claim held for a replay (awaitingReplay): the reconcile pass ends those of PRs closed unheard (heldClaimsClosed). */
export const heldClaimPrs = (view: LedgerView): number[] => [...awaitingReplay(view).keys()].map((k) => Number(k.slice(0, k.indexOf('@'))));

/** Whether a close of PR `pr` ended commit `sha`'s claim since the dispatch of job `since` (its first run). */
function closedSince(view: LedgerView, pr: number, sha: string, since: string): boolean {
  for (let i = view.entries.length - 1; i >= 0; i--) {
    const e = view.entries[i];
    const d = e.data as { pr?: number | null; sha?: string; job_id?: string; reason?: string };
    if (e.type === 'job_dispatched' && d.job_id === since) return false;
    if (e.type === 'experiment_dequeued' && d.pr === pr && d.sha === sha && d.reason === closedReason(pr)) return true;
  }
  return false;
}

/** lostTrack for one commit. */
export function orphaned(view: LedgerView, pr: number, sha: string, now?: number): boolean {
  return lostTrack(view, now)(pr, sha);
}

/**
 * `pr@sha` of the PR commits their author has paid for (a credit_spent for one of their jobs,
 * long runs aside), or queued as the update of an outdated commit that was (app/outdated.ts), or
 * queued again by the App (`prepaid`: a retrial after a ban, app/retrials.ts): a commit is paid
 * for once, so running it again (re-queued when the default branch moved, when the App lost track
 * of it, or its dispatch was lost) is the swarm's cost. Until its verdict: a commit discarded,
 * merged or rejected has had what its author paid for, and running it again (its PR closed and
 * reopened) is a new experiment, paid again. (Before, each reopening of a discarded PR ran it once
 * more at the swarm's cost: free runs, and a fresh draw at the merge rule, without end.)
 * A close of its PR uses the payment up too (closeUsesPayment, and a close that ended a claim whose
 * first run was scored: experiment_dequeued "PR #n was closed"): the reopened commit is paid again.
 */
export function paidHeads(view: LedgerView): Set<string> {
  const paid = new Set<string>();
  // commits whose first run of this round was scored: a close ends their claim and uses the payment
  const scored = new Set<string>();
  for (const e of view.entries as LedgerEntry[]) {
    if (e.type === 'result_recorded' && closeUsesPayment(view, e as LedgerEntry<'result_recorded'>)) {
      const d = e.data as EntryDataOf<'result_recorded'>;
      paid.delete(`${d.pr}@${d.sha}`);
    }
    if (e.type === 'result_recorded') {
      const d = e.data as EntryDataOf<'result_recorded'>;
      if (d.role === 'candidate' && d.pr !== null && d.validated && d.result?.status === 'ok' && d.result.val_bpb !== null && !view.longRuns.has(d.job_id)) scored.add(`${d.pr}@${d.sha}`);
    }
    if (e.type === 'experiment_dequeued') {
      const d = e.data as EntryDataOf<'experiment_dequeued'>;
      if (d.reason === closedReason(d.pr) && scored.delete(`${d.pr}@${d.sha}`)) paid.delete(`${d.pr}@${d.sha}`);
    }
    if (e.type === 'experiment_queued' && (e.data as EntryDataOf<'experiment_queued'>).prepaid) {
      const d = e.data as EntryDataOf<'experiment_queued'>;
      paid.add(`${d.pr}@${d.sha}`);
    }
    if (e.type === 'experiment_discarded' || e.type === 'experiment_merged' || e.type === 'experiment_rejected') {
      const d = e.data as { pr: number; sha: string };
      paid.delete(`${d.pr}@${d.sha}`);
      scored.delete(`${d.pr}@${d.sha}`);
    }
    if (e.type !== 'credit_spent') continue;
    const jobId = (e.data as EntryDataOf<'credit_spent'>).job_id;
    const j = view.jobs.get(jobId);
    if (j && j.pr !== null && !view.longRuns.has(jobId)) paid.add(`${j.pr}@${j.sha}`);
  }
  return paid;
}

/**
 * Whether a job closed because its PR was closed used its commit's payment up, as a verdict does:
 * a verify job (the claim's first run was scored), or a run closed more than PROMPT_START_MS after
 * its dispatch (a runner may have been training it, and a run's log is public while it runs). Else
 * an author who watched the loss, or the score the log prints before the artifact is uploaded,
 * closed the PR when the run went badly and reopened it for a fresh seed at the swarm's cost:
 * re-rolling the first run of the claim (which the verify runs are averaged with) for free, and
 * leaving the runner that trained it uncredited. A close right after the dispatch still runs the
 * commit again for its one payment.
 */
export function closeUsesPayment(view: LedgerView, e: LedgerEntry<'result_recorded'>): boolean {
  const d = e.data;
  if (d.pr === null || d.result !== null || d.reason !== closedReason(d.pr) || d.role === 'baseline' || view.longRuns.has(d.job_id)) return false;
  if (d.role === 'verify') return true;
  const job = view.jobs.get(d.job_id);
  return !!job && Date.parse(e.time) - Date.parse(job.time) > PROMPT_START_MS;
}
