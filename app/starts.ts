// When a job's run started on a runner, recorded in the ledger (job_started): its deadline counts
// from then (app/scheduler.ts), and a job without one is still queued, which is no fault of the
// runner it waits for. GitHub tells it twice:
//   - the workflow_job webhook, action `in_progress`: "The job has started processing on the
//     runner", with `runner_name` ("null as long as status is queued");
//   - the jobs API (GET .../actions/runs/{run_id}/jobs) of a run the workflow's runs listing shows
//     in progress: what the tick reads when the webhook was lost or refused.
// The start's time is the App's clock when it learns of it (the entry's time): a job's
// `started_at` has been seen to keep the time it was queued, and the run's `run_started_at` is
// "the start time of the latest run" (its attempt), not a runner's; neither says when a runner took
// it, so counting from them would count the queue again. Either way the run must be one the App
// dispatched (experiment.yml, workflow_dispatch on the default branch of this repository, the job's
// nonce in its title), as for a result. The start is recorded once per job and never after its
// result: a redelivery, a second process, or a `completed` that arrived first append nothing.
// The tick also cancels queued runs of jobs already closed (superseded, PR closed, queued past the
// queue limit): their result would be ignored, and a runner would spend its time on them.
import type { EntryDataOf, LedgerEntry, NewEntry } from '../ledger/index.js';
import { status } from './github/octokit.js';
import { viewOf, type LedgerView } from './ledger-view.js';
import { nonceOfRunTitle } from './policy/result-check.js';
import { appendBuilt, type Session } from './session.js';
import { ANY_RUNNER } from './dispatch.js';

/** job id -> the id of its run that GitHub lists as queued now (from the tick's listing) */
export type QueuedRuns = Map<string, number>;

/** A run of the experiment workflow as the runs listing serves it (the fields read here). */
export interface ListedRun {
  id: number;
  status: string | null;
  display_title?: string | null;
  created_at: string;
  path: string;
  event: string;
  head_branch: string | null;
  head_sha: string;
  html_url: string;
  head_repository?: { full_name: string } | null;
}

/** The payload of a workflow_job event (the fields read here). */
export interface WorkflowJobEvent {
  action: string;
  workflow_job: { run_id: number; status: string; started_at?: string | null; runner_name: string | null; labels: string[]; head_branch?: string | null };
}

/** Whether a run is one the App dispatched: the experiment workflow, dispatched on the default branch of this repository. */
export function dispatchedByApp(s: Session, run: Pick<ListedRun, 'path' | 'event' | 'head_branch' | 'head_repository'>): boolean {
  return run.path.endsWith(`/${s.cfg.config.workflow}`) && run.event === 'workflow_dispatch' && run.head_branch === s.defaultBranch && (!run.head_repository || run.head_repository.full_name === s.fullName);
}

/**
 * workflow_job `in_progress`: the job's start recorded. Jobs of other workflows are told apart
 * without a call (an experiment job runs on the `autoresearch` label); for one of ours, one call
 * reads its run (the nonce is in the run's title, which the payload lacks).
 */
export async function onWorkflowJob(s: Session, ev: WorkflowJobEvent): Promise<void> {
  const j = ev.workflow_job;
  if (ev.action !== 'in_progress' || !j.runner_name || !j.labels.includes(ANY_RUNNER)) return;
  if (j.head_branch && j.head_branch !== s.defaultBranch) return;
  const view = viewOf(await s.ledger.read());
  if (!view.open.some((o) => !view.started.has(o.job_id))) return;
  const { data: run } = await s.octokit.rest.actions.getWorkflowRun({ ...s.repo, run_id: j.run_id });
  const nonce = nonceOfRunTitle(run.display_title);
  if (!nonce || !dispatchedByApp(s, run)) {
    s.log.info(`workflow_job of run ${j.run_id}: not a run the App dispatched (${run.path}, ${run.event} on ${run.head_branch})`);
    return;
  }
  await recordStart(s, view, { job_id: nonce, run_id: run.id, runner_name: j.runner_name, github_started_at: j.started_at ?? null });
}

/** The job_started entry to append on `entries`: none when the job is unknown, has a result, or has a start. */
export function startEntries(entries: LedgerEntry[], start: EntryDataOf<'job_started'>, given?: LedgerView): NewEntry[] {
  const v = given && given.entries.length === entries.length ? given : viewOf(entries);
  if (!v.jobs.has(start.job_id) || v.state.results.has(start.job_id) || v.started.has(start.job_id)) return [];
  return [{ type: 'job_started', data: start }];
}

export async function recordStart(s: Session, view: LedgerView, start: EntryDataOf<'job_started'>): Promise<void> {
  if (!startEntries(view.entries, start, view).length) return;
  await appendBuilt(s, view.entries, (entries) => startEntries(entries, start, view));
}

/** Whether the tick needs the runs listing for starts and queued runs: an open job without a start, dispatched a budget ago. */
export function needsListing(s: Session, view: LedgerView): boolean {
  const now = s.now().getTime();
  return view.open.some((j) => !view.started.has(j.job_id) && now - Date.parse(j.time) > Math.min(j.budget_seconds * 1000, s.cfg.config.queue_limit_minutes * 60_000));
}

/**
 * The tick's repair: runs the listing shows in progress for open jobs without a
 * recorded start get it from the jobs API (one call each: only when the webhook was lost); queued
 * runs of jobs already closed are cancelled. Returns the runs still queued for open jobs.
 */
export async function trackRuns(s: Session, view: LedgerView, runs: ListedRun[]): Promise<{ view: LedgerView; queued: QueuedRuns }> {
  const queued: QueuedRuns = new Map();
  let changed = false;
  for (const run of runs) {
    const nonce = nonceOfRunTitle(run.display_title);
    if (!nonce || !dispatchedByApp(s, run) || !view.jobs.has(nonce)) continue;
    const open = !view.state.results.has(nonce);
    if (run.status === 'queued') {
      if (open) queued.set(nonce, run.id);
      else await cancelRun(s, run.id);
      continue;
    }
    // (a completed run is scored by the reconcile pass, its start no longer matters)
    if (!open || view.started.has(nonce) || run.status !== 'in_progress') continue;
    const { data } = await s.octokit.rest.actions.listJobsForWorkflowRun({ ...s.repo, run_id: run.id, per_page: 20 });
    const job = data.jobs.find((x) => x.runner_name && (x.status === 'in_progress' || x.status === 'completed'));
    if (!job?.runner_name) continue;
    s.log.info(`reconcile: run ${run.id} of job ${nonce} is in progress on ${job.runner_name} without a recorded start; recording it`);
    await recordStart(s, view, { job_id: nonce, run_id: run.id, runner_name: job.runner_name, github_started_at: job.started_at ?? null });
    changed = true;
  }
  return { view: changed ? viewOf(await s.ledger.read()) : view, queued };
}

/**
 * Cancels a queued run (POST .../actions/runs/{run_id}/cancel: 202 accepted; 409 when it already
 * completed, which is as good). Any other failure is left to the next tick, which cancels queued
 * runs of closed jobs again: a run that slips through is scored as "already has a result".
 */
export async function cancelRun(s: Session, runId: number): Promise<void> {
  try {
    await s.octokit.rest.actions.cancelWorkflowRun({ ...s.repo, run_id: runId });
  } catch (e) {
    if (status(e) !== 409) s.log.warn(`cancelling run ${runId} failed (${(e as Error).message}); the next tick tries again`);
  }
}
