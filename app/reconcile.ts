// The reconcile pass, run on every tick (tick.yml's workflow_run): GitHub's state compared with
// the ledger, each difference repaired, so nothing the App meant to do is lost to a failed
// request, a rate limit, a restart, a lost or reordered webhook:
//   - merge intents not settled: recorded as GitHub says (app/merge.ts);
//   - PRs closed without the App hearing of it: their jobs closed, their queue entries removed;
//   - open PRs whose head commit the ledger has not seen (an event lost, or refused for a rate
//     limit): handled now, as a push would be;
//   - completed experiment runs of open jobs whose result was never recorded (the workflow_run
//     event lost or failed): scored now, as the event would have been;
//   - open PRs whose experiment:* label disagrees with what the ledger recorded for their head
//     (a report cut short after its record: the label is always written last): their check run,
//     comment and label brought up to date;
//   - open PRs the ledger acted on but that are neither queued, running, being merged nor judged:
//     queued again (app/heads.ts: orphaned);
//   - PRs waiting for a baseline no job is running for any more (given up, or a handler failed
//     before asking for more): baseline runs dispatched again, one more while owners disagree, the
//     PR re-queued when the default branch moved, or given up when twice the runs agree on nothing
//     (app/waiting.ts);
//   - runs in progress whose start (workflow_job in_progress) was never recorded: recorded from the
//     jobs API; queued runs of closed jobs cancelled (app/starts.ts);
//   - then the scheduler: overdue jobs re-dispatched or given up (a job's deadline counts from its
//     start; a run still queued past the queue limit is cancelled and dispatched again), the queue drained.
// The ledger is the source of truth for what the App did; GitHub for what happened.
import type { EntryDataOf, NewEntry } from '../ledger/index.js';
import { createCheck, updateCheck } from './github/checks.js';
import { setState, stateOf, type ExperimentState } from './github/labels.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { stateComment } from './messages.js';
import { closedReason, heldClaimPrs, heldClaimsClosed, lostTrack, orphaned, seenHeads, sideReplayEntry } from './heads.js';
import { closeJob, dispatchJobs, rerun } from './dispatch.js';
import { once } from './record.js';
import { onPullRequest } from './handlers/pull-request.js';
import { onWorkflowRun, type WorkflowRunEvent } from './handlers/workflow-run.js';
import { viewOf, type LedgerView } from './ledger-view.js';
import { pendingMerges, settlePendingMerges } from './merge.js';
import { outdatedWords } from './outdated.js';
import { schedule } from './scheduler.js';
import { retryDiscards } from './retrials.js';
import { repairWaiting } from './waiting.js';
import { appendBuilt, configOf, type Session } from './session.js';
import { listRuns, needsListing, trackRuns, type QueuedRuns } from './starts.js';

export async function reconcile(s: Session): Promise<void> {
  // Each repair on its own: a failed request (a 5xx, a rate limit) in one leaves the others, and
  // the deadlines the scheduler enforces, to run now. The first failure is thrown at the end, so
  // the delivery still counts as failed; the next tick does what is left.
  const failures: unknown[] = [];
  let view = viewOf(await s.ledger.read());
  const waiting = (s: Session, view: LedgerView, failures: unknown[]) => repairWaiting(s, view, (what, repair) => isolated(s, failures, what, repair));
  let queued: QueuedRuns | undefined;
  // starts whose workflow_job event was lost recorded, queued runs of closed jobs cancelled, and
  // the runs still queued handed to the scheduler (its queue limit)
  const track = async (s: Session, view: LedgerView) => {
    if (!needsListing(s, view)) return view;
    const t = await trackRuns(s, view);
    queued = t.queued;
    return t.view;
  };
  const steps: ((s: Session, view: LedgerView, failures: unknown[]) => Promise<LedgerView>)[] = [settlePendingMerges, repairPulls, retryDiscards, recoverResults, waiting, track];
  for (const step of steps) {
    try {
      view = await step(s, view, failures);
    } catch (e) {
      failures.push(e);
      s.log.warn(`reconcile: ${step.name} failed (${(e as Error).message}); the next tick repeats it`);
      view = viewOf(await s.ledger.read());
    }
  }
  try {
    await schedule(s, view, queued);
  } catch (e) {
    failures.push(e);
  }
  if (failures.length) throw failures[0];
}

/** Runs one repair of a step; a failure is kept for the end of the pass instead of ending it. */
async function isolated(s: Session, failures: unknown[], what: string, repair: () => Promise<void>): Promise<void> {
  try {
    await repair();
  } catch (e) {
    failures.push(e);
    s.log.warn(`reconcile: ${what} failed (${(e as Error).message}); the next tick repeats it`);
  }
}

async function repairPulls(s: Session, view: LedgerView, failures: unknown[]): Promise<LedgerView> {
  const pulls = await s.octokit.paginate(s.octokit.rest.pulls.list, { ...s.repo, state: 'open', per_page: 100 });
  const open = new Map(pulls.map((p) => [p.number, p]));
  // closed while the App did not hear of it: the jobs and queue places go to others
  const closesOn = (v: LedgerView): NewEntry[] => {
    const closes: NewEntry[] = v.open
      .filter((j) => j.pr !== null && j.role !== 'baseline' && !v.longRuns.has(j.job_id) && !sideReplayEntry(v, j) && !open.has(j.pr) && !pendingMerges(v.entries).some((p) => p.pr === j.pr))
      .map((j) => closeJob(j, closedReason(j.pr!)));
    for (const q of v.queue.values()) if (!open.has(q.pr)) closes.push({ type: 'experiment_dequeued', data: { pr: q.pr, sha: q.sha, reason: closedReason(q.pr) } });
    for (const pr of new Set(heldClaimPrs(v))) if (!open.has(pr) && !pendingMerges(v.entries).some((p) => p.pr === pr)) closes.push(...heldClaimsClosed(v, pr));
    return closes;
  };
  if (closesOn(view).length) {
    await appendBuilt(s, view.entries, (entries) => closesOn(entries.length === view.entries.length ? view : viewOf(entries)));
    view = viewOf(await s.ledger.read());
  }
  const seen = seenHeads(view);
  const lost = lostTrack(view, s.now().getTime());
  for (const p of pulls) {
    const labels = p.labels.map((l) => ({ name: l.name ?? '' }));
    if (seen.has(`${p.number}@${p.head.sha}`) && lost(p.number, p.head.sha)) {
      await isolated(s, failures, `re-queueing PR #${p.number}`, async () => {
        view = await requeueOrphan(s, view, { number: p.number, sha: p.head.sha, title: p.title, author: p.user?.login ?? 'ghost' });
      });
    }
    if (seen.has(`${p.number}@${p.head.sha}`)) {
      await isolated(s, failures, `the report of PR #${p.number}`, () => repairReport(s, view, { number: p.number, sha: p.head.sha, labels }));
      continue;
    }
    s.log.info(`reconcile: PR #${p.number} head ${p.head.sha.slice(0, 7)} not in the ledger; handling it now`);
    await isolated(s, failures, `PR #${p.number}`, async () => {
      await onPullRequest(s, { action: 'synchronize', number: p.number, pull_request: { number: p.number, state: 'open', title: p.title, head: { sha: p.head.sha }, user: p.user ? { login: p.user.login } : null, labels } });
      view = viewOf(await s.ledger.read());
    });
  }
  return view;
}

/**
 * An open PR's head the App lost track of (app/heads.ts: orphaned) goes back in the queue, once:
 * appended only while the chain really appended to still shows it lost. Its author is not charged
 * again (app/scheduler.ts: a commit is paid for once).
 */
async function requeueOrphan(s: Session, view: LedgerView, p: { number: number; sha: string; title: string; author: string }): Promise<LedgerView> {
  s.log.warn(`reconcile: PR #${p.number} at ${p.sha.slice(0, 7)} is neither queued, running nor judged; queueing it again`);
  const last = [...view.jobs.values()].filter((j) => j.pr === p.number && j.sha === p.sha).at(-1);
  const refs = last ? jobRefs(last.job_id) : { check: null, comment: null };
  await appendBuilt(s, view.entries, (entries) => {
    const v = entries.length === view.entries.length ? view : viewOf(entries);
    return orphaned(v, p.number, p.sha, s.now().getTime()) ? [{ type: 'experiment_queued', data: { pr: p.number, sha: p.sha, author: p.author, title: p.title, check: refs.check, comment: refs.comment, waiting_for: null } }] : [];
  });
  return viewOf(await s.ledger.read());
}

/** How long after its ledger entry a job's run must exist on GitHub, or its dispatch was lost. */
export const DISPATCH_LOST_MS = 15 * 60_000;
/** The reason a job whose dispatch never reached GitHub is closed with (a new job takes its place). */
export const DISPATCH_LOST = 'its dispatch never reached GitHub: no run ';

/**
 * Open jobs that could have finished (dispatched more than their budget ago) are looked for among
 * the workflow's runs (one call, only when there are such jobs). A completed run naming one in its
 * title ("... [<nonce>]", experiment.yml's run-name) is scored as its workflow_run event would be
 * (the title only finds the run: the result is still checked against the artifact and the
 * ledger). A job with no run at all 15 minutes on, while the listing reaches back past it, was
 * recorded but its dispatch never reached GitHub (the request failed after the record): it is
 * closed and dispatched again as a new job, in one ledger append built on the chain it lands on,
 * so of two processes (or two ticks) only one sends it; the author is not charged again.
 */
async function recoverResults(s: Session, view: LedgerView, failures: unknown[]): Promise<LedgerView> {
  const now = s.now().getTime();
  const due = new Map(view.open.filter((j) => now - Date.parse(j.time) > j.budget_seconds * 1000).map((j) => [j.job_id, j]));
  if (!due.size) return view;
  const data = { workflow_runs: await listRuns(s) };
  const nonceOf = (run: { display_title?: string | null }) => /\[([^\]\s]+)\]$/.exec(run.display_title ?? '')?.[1];
  const withRun = new Set(data.workflow_runs.map(nonceOf));
  let changed = false;
  for (const run of data.workflow_runs) {
    const nonce = nonceOf(run);
    if (run.status !== 'completed' || !nonce || !due.has(nonce)) continue;
    due.delete(nonce);
    changed = true;
    s.log.info(`reconcile: run ${run.id} of job ${nonce} completed without a recorded result; scoring it now`);
    await isolated(s, failures, `scoring run ${run.id}`, async () => {
      const at = { ...s, cfg: await configOf(s.octokit, s.repo, run.head_sha, true) };
      await onWorkflowRun(at, { action: 'completed', workflow_run: run as unknown as WorkflowRunEvent['workflow_run'] });
    });
  }
  const oldest = data.workflow_runs.at(-1)?.created_at;
  for (const j of due.values()) {
    // covered: the listing reaches back past the job's dispatch (a run created in the same second may sort either side of the page's end)
    const covered = data.workflow_runs.length < 100 || (oldest !== undefined && Date.parse(oldest) < Date.parse(j.time));
    if (withRun.has(j.job_id) || !covered || now - Date.parse(j.time) < DISPATCH_LOST_MS) continue;
    const minutes = Math.round((now - Date.parse(j.time)) / 60_000);
    s.log.info(`reconcile: job ${j.job_id} has no run ${minutes} minutes after its dispatch was recorded; dispatching it again as a new job`);
    changed = true;
    await isolated(s, failures, `dispatching job ${j.job_id} again`, async () => {
      await dispatchJobs(s, [rerun(j, { attempt: j.attempt })], once(view, j.job_id, [closeJob(j, `${DISPATCH_LOST}${minutes} minutes after it was recorded`)]), {}, view.entries);
    });
  }
  return changed ? viewOf(await s.ledger.read()) : view;
}

type CheckState = { status: 'queued' | 'in_progress' } | { conclusion: 'success' | 'neutral' | 'failure' | 'timed_out' };
interface Report {
  state: ExperimentState | null;
  check: number | null;
  checkState: CheckState;
  title: string;
  text: string;
  /** the sticky comment's id when known; a final state also rewrites the comment */
  comment?: number | null;
}

/** What the PR's head should show, from the ledger alone; null where the ledger does not say (e.g. a merge refused). */
export function expectedReport(view: LedgerView, pr: number, sha: string): Report | null {
  const jobs = [...view.jobs.values()].filter((j) => j.pr === pr && j.sha === sha && j.role !== 'baseline' && !view.longRuns.has(j.job_id));
  const refs = jobs.length ? jobRefs(jobs.at(-1)!.job_id) : { check: null, comment: null };
  type Outcome = { type: string; data: Record<string, unknown> };
  let last = null as Outcome | null;
  for (const e of view.entries) {
    const d = e.data as { pr?: number; sha?: string };
    if (d.pr !== pr || d.sha !== sha) continue;
    if (e.type === 'experiment_merged' || e.type === 'experiment_discarded' || e.type === 'experiment_rejected' || e.type === 'experiment_outdated') last = e as unknown as Outcome;
    // run again since (a PR reopened): the newer state is what it shows
    // (a replay of a verify run, sent after the PR was decided, is no new state: its label went back to verifying)
    else if (e.type === 'experiment_queued' || (e.type === 'job_dispatched' && !view.longRuns.has((e.data as { job_id: string }).job_id) && (e.data as { role: string }).role !== 'baseline' && !sideReplayEntry(view, e.data as { replay?: string; verifies?: string | null }))) last = null;
  }
  if (last?.type === 'experiment_merged') {
    const d = last.data as EntryDataOf<'experiment_merged'>;
    return { state: 'merged', check: refs.check, comment: refs.comment, checkState: { conclusion: 'success' }, title: 'Merged', text: `Merged as \`${d.merge_sha.slice(0, 7)}\`: val_bpb ${d.val_bpb.toFixed(4)} on ${d.hardware_class}, baseline ${d.baseline_mean.toFixed(4)}.` };
  }
  if (last?.type === 'experiment_discarded') {
    const d = last.data as EntryDataOf<'experiment_discarded'>;
    const timedOut = d.reason.startsWith('no runner reported a result');
    const conclusion = timedOut ? 'timed_out' : d.val_bpb !== null ? 'neutral' : 'failure';
    return { state: 'discarded', check: refs.check, comment: refs.comment, checkState: { conclusion }, title: timedOut ? 'No result' : d.val_bpb !== null ? 'No improvement' : 'Discarded', text: `Discarded: ${d.reason}.` };
  }
  if (last?.type === 'experiment_rejected') {
    const d = last.data as EntryDataOf<'experiment_rejected'>;
    return { state: 'invalid', check: null, checkState: { conclusion: 'failure' }, title: 'Not an experiment', text: d.problems.join('\n') };
  }
  if (last?.type === 'experiment_outdated') {
    const d = last.data as EntryDataOf<'experiment_outdated'>;
    const [title, lines] = outdatedWords({ defaultBranch: 'the default branch' }, d, d, d.update === 'requested' ? null : 'refused');
    return { state: d.update === 'requested' ? 'queued' : 'conflict', check: refs.check, comment: refs.comment, checkState: { conclusion: 'neutral' }, title, text: lines.join(' ') };
  }
  const q = view.queue.get(pr);
  if (q?.sha === sha) {
    return q.waiting_for
      ? { state: 'waiting-baseline', check: q.check, checkState: { status: 'in_progress' }, title: 'Waiting for a baseline', text: `Waiting for a baseline of \`${q.waiting_for.sha.slice(0, 7)}\` on ${q.waiting_for.hardware_class}.` }
      : { state: 'queued', check: q.check, checkState: { status: 'queued' }, title: 'Queued', text: 'Waiting for a runner slot or for the author\'s credits.' };
  }
  const open = jobs.filter((j) => !view.state.results.has(j.job_id)).at(-1);
  if (open?.role === 'verify') return { state: 'verifying', check: jobRefs(open.job_id).check, checkState: { status: 'in_progress' }, title: 'Improvement claimed; verifying', text: 'A runner of another owner is re-running it.' };
  if (open?.role === 'candidate') return { state: null, check: jobRefs(open.job_id).check, checkState: { status: 'in_progress' }, title: 'Running', text: `Dispatched to a runner (budget ${open.budget_seconds} s).` };
  return null;
}

/** A PR whose label disagrees with the ledger: its check run, comment (final states) and label brought up to date. */
async function repairReport(s: Session, view: LedgerView, p: { number: number; sha: string; labels: { name: string }[] }): Promise<void> {
  const want = expectedReport(view, p.number, p.sha);
  const have = stateOf(p.labels);
  if (!want || want.state === have) return;
  s.log.info(`reconcile: PR #${p.number} shows ${have ?? 'no label'} but the ledger says ${want.state ?? 'running'}; bringing it up to date`);
  const text = `${want.text}\n\n(Brought up to date from the ledger by the App's reconcile pass.)`;
  if (want.check !== null) await updateCheck(s.octokit, s.repo, want.check, want.checkState, want.title, text);
  else await createCheck(s.octokit, s.repo, p.sha, want.checkState, want.title, text);
  if ('conclusion' in want.checkState) await writeSticky(s.octokit, s.repo, p.number, stateComment(want.title, [want.text], s.cfg.notice), { knownId: want.comment ?? null });
  await setState(s.octokit, s.repo, p.number, p.labels, want.state);
}
