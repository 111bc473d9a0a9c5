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
//   - PRs waiting for a baseline no job is running for any more (given up): baseline runs
//     dispatched again, or the PR re-queued against the default branch when it moved;
//   - then the scheduler: overdue jobs re-dispatched or given up, the queue drained.
// The ledger is the source of truth for what the App did; GitHub for what happened.
import type { EntryDataOf, NewEntry } from '../ledger/index.js';
import { createCheck, updateCheck } from './github/checks.js';
import { setState, stateOf, type ExperimentState } from './github/labels.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { stateComment } from './messages.js';
import { closedReason, seenHeads } from './heads.js';
import { ANY_RUNNER, closeJob, dispatchJobs, sendDispatch } from './dispatch.js';
import { onPullRequest } from './handlers/pull-request.js';
import { onWorkflowRun, type WorkflowRunEvent } from './handlers/workflow-run.js';
import { baselineJobsFor } from './baselines.js';
import { classAt, viewOf, type LedgerView } from './ledger-view.js';
import { pendingMerges, settlePendingMerges } from './merge.js';
import { schedule } from './scheduler.js';
import { appendBuilt, configOf, type Session } from './session.js';

export async function reconcile(s: Session): Promise<void> {
  let view = viewOf(await s.ledger.read());
  view = await settlePendingMerges(s, view);
  view = await repairPulls(s, view);
  view = await recoverResults(s, view);
  view = await repairWaiting(s, view);
  await schedule(s, view);
}

async function repairPulls(s: Session, view: LedgerView): Promise<LedgerView> {
  const pulls = await s.octokit.paginate(s.octokit.rest.pulls.list, { ...s.repo, state: 'open', per_page: 100 });
  const open = new Map(pulls.map((p) => [p.number, p]));
  // closed while the App did not hear of it: the jobs and queue places go to others
  const closesOn = (v: LedgerView): NewEntry[] => {
    const closes: NewEntry[] = v.open
      .filter((j) => j.pr !== null && j.role !== 'baseline' && !v.longRuns.has(j.job_id) && !open.has(j.pr) && !pendingMerges(v.entries).some((p) => p.pr === j.pr))
      .map((j) => closeJob(j, closedReason(j.pr!)));
    for (const q of v.queue.values()) if (!open.has(q.pr)) closes.push({ type: 'experiment_dequeued', data: { pr: q.pr, sha: q.sha, reason: closedReason(q.pr) } });
    return closes;
  };
  if (closesOn(view).length) {
    await appendBuilt(s, view.entries, (entries) => closesOn(entries.length === view.entries.length ? view : viewOf(entries)));
    view = viewOf(await s.ledger.read());
  }
  const seen = seenHeads(view);
  for (const p of pulls) {
    if (seen.has(`${p.number}@${p.head.sha}`)) {
      await repairReport(s, view, { number: p.number, sha: p.head.sha, labels: p.labels.map((l) => ({ name: l.name ?? '' })) });
      continue;
    }
    s.log.info(`reconcile: PR #${p.number} head ${p.head.sha.slice(0, 7)} not in the ledger; handling it now`);
    await onPullRequest(s, {
      action: 'synchronize',
      number: p.number,
      pull_request: { number: p.number, state: 'open', title: p.title, head: { sha: p.head.sha }, user: p.user ? { login: p.user.login } : null, labels: p.labels.map((l) => ({ name: l.name ?? '' })) },
    });
    view = viewOf(await s.ledger.read());
  }
  return view;
}

/** How long after its ledger entry a job's run must exist on GitHub, or its dispatch was lost. */
export const DISPATCH_LOST_MS = 15 * 60_000;

/**
 * Open jobs that could have finished (dispatched more than their budget ago) are looked for among
 * the workflow's runs (one call, only when there are such jobs). A completed run naming one in its
 * title ("... [<nonce>]", experiment.yml's run-name) is scored as its workflow_run event would be
 * (the title only finds the run: the result is still checked against the artifact and the
 * ledger). A job with no run at all 15 minutes on, while the listing reaches back past it, was
 * recorded but its dispatch never reached GitHub (the request failed after the record): it is
 * sent again, same nonce (its concurrency group makes a twin wait, and a twin's result is then
 * already recorded).
 */
async function recoverResults(s: Session, view: LedgerView): Promise<LedgerView> {
  const now = s.now().getTime();
  const due = new Map(view.open.filter((j) => now - Date.parse(j.time) > j.budget_seconds * 1000).map((j) => [j.job_id, j]));
  if (!due.size) return view;
  const { data } = await s.octokit.rest.actions.listWorkflowRuns({ ...s.repo, workflow_id: s.cfg.config.workflow, event: 'workflow_dispatch', branch: s.defaultBranch, per_page: 100 });
  const nonceOf = (run: { display_title?: string | null }) => /\[([^\]\s]+)\]$/.exec(run.display_title ?? '')?.[1];
  const withRun = new Set(data.workflow_runs.map(nonceOf));
  let changed = false;
  for (const run of data.workflow_runs) {
    const nonce = nonceOf(run);
    if (run.status !== 'completed' || !nonce || !due.has(nonce)) continue;
    due.delete(nonce);
    changed = true;
    s.log.info(`reconcile: run ${run.id} of job ${nonce} completed without a recorded result; scoring it now`);
    const at = { ...s, cfg: await configOf(s.octokit, s.repo, run.head_sha, true) };
    await onWorkflowRun(at, { action: 'completed', workflow_run: run as unknown as WorkflowRunEvent['workflow_run'] });
  }
  const oldest = data.workflow_runs.at(-1)?.created_at;
  for (const j of due.values()) {
    const covered = data.workflow_runs.length < 100 || (oldest !== undefined && Date.parse(oldest) <= Date.parse(j.time));
    if (withRun.has(j.job_id) || !covered || now - Date.parse(j.time) < DISPATCH_LOST_MS) continue;
    s.log.info(`reconcile: job ${j.job_id} has no run ${Math.round((now - Date.parse(j.time)) / 60_000)} minutes after its dispatch was recorded; dispatching it again`);
    await sendDispatch(s, j, j.hardware_class ?? ANY_RUNNER);
  }
  return changed ? viewOf(await s.ledger.read()) : view;
}

/** Queue entries waiting for a baseline that nothing will produce any more: its runs are dispatched again, or the PR runs on the new default branch. */
async function repairWaiting(s: Session, view: LedgerView): Promise<LedgerView> {
  const stuck = [...view.queue.values()].filter((q) => {
    const w = q.waiting_for;
    return w && !view.baselines.has(classAt(w.hardware_class, w.sha)) && !view.open.some((j) => j.role === 'baseline' && !view.longRuns.has(j.job_id) && j.hardware_class === w.hardware_class && j.sha === w.sha);
  });
  if (!stuck.length) return view;
  const { data: head } = await s.octokit.rest.git.getRef({ ...s.repo, ref: `heads/${s.defaultBranch}` });
  for (const q of stuck) {
    const w = q.waiting_for!;
    if (w.sha === head.object.sha) {
      await dispatchJobs(s, await baselineJobsFor(s, view, w.hardware_class, w.sha, s.cfg.config.baseline_runs), [], {}, view.entries);
    } else {
      // the commit it waited on is no longer the default branch: test it again on the new one
      await appendBuilt(s, view.entries, (entries) => {
        const v = entries.length === view.entries.length ? view : viewOf(entries);
        const now = v.queue.get(q.pr);
        return now?.sha === q.sha && now.waiting_for?.sha === w.sha ? [{ type: 'experiment_queued', data: { pr: q.pr, sha: q.sha, author: q.author, title: q.title, check: q.check, comment: q.comment, waiting_for: null } }] : [];
      });
    }
    view = viewOf(await s.ledger.read());
  }
  return view;
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
    if (e.type === 'experiment_merged' || e.type === 'experiment_discarded' || e.type === 'experiment_rejected') last = e as unknown as Outcome;
    // run again since (a PR reopened): the newer state is what it shows
    else if (e.type === 'experiment_queued' || (e.type === 'job_dispatched' && !view.longRuns.has((e.data as { job_id: string }).job_id) && (e.data as { role: string }).role !== 'baseline')) last = null;
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
