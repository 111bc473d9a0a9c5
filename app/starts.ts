// When a job's run started on a runner, recorded in the ledger (job_started) when it matters: its
// deadline counts from then (app/scheduler.ts), and a job whose run is still queued is no runner's
// fault. GitHub tells it twice:
//   - the workflow_job webhook, action `in_progress`: "The job has started processing on the
//     runner", with `runner_name` ("null as long as status is queued"); experiment.yml names the
//     job "experiment [<nonce>]", so the payload says which job without a call;
//   - the jobs API (GET .../actions/runs/{run_id}/jobs) of a run the tick's listing shows in progress.
// A start within PROMPT_START_MS of the dispatch is not recorded (nearly every start: counting from
// the dispatch then shortens the deadline by at most that much, and costs no API call or ledger
// write); a later one is, after one call confirms the run is one the App dispatched (experiment.yml,
// workflow_dispatch on the default branch of this repository, the nonce in its title), with the
// App's clock: a job's `started_at` has been seen to keep the time it was queued, and the run's
// `run_started_at` is "the start time of the latest run" (its attempt), not a runner's. Recorded once
// per job and never after its result: a redelivery, a second process, or a `completed` that arrived
// first append nothing.
// The tick lists the runs GitHub shows queued and in progress: a job still queued is judged by the
// queue limit, not the deadline; an in-progress run past its deadline counted from the dispatch
// whose start was not recorded (the event lost) gets GitHub's started_at, kept within the dispatch
// and now; and queued runs of jobs already closed (superseded, PR closed, queued past the limit)
// are cancelled: their result would be ignored, and a runner would spend its time on them.
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
  /** who triggered the run's first attempt, and its latest (a re-run's) */
  actor?: { login: string } | null;
  triggering_actor?: { login: string } | null;
}

/** The payload of a workflow_job event (the fields read here). */
export interface WorkflowJobEvent {
  action: string;
  workflow_job: { run_id: number; name: string; status: string; started_at?: string | null; runner_name: string | null; labels: string[]; head_branch?: string | null };
}

/** Who started a run's latest attempt: GitHub's `triggering_actor` (a re-run's), else `actor` (the first attempt's); null when the object names neither. */
export function starterOf(run: Pick<ListedRun, 'actor' | 'triggering_actor'>): string | null {
  return run.triggering_actor?.login ?? run.actor?.login ?? null;
}

/**
 * Whether a run is one the App dispatched: the experiment workflow, dispatched on the default
 * branch of this repository, by the App's bot (`bot`, `<slug>[bot]`; null: not known, not checked).
 * Any writer of the repository can dispatch experiment.yml too, with a real job's nonce copied from
 * a public run title and `runner_label` naming a runner of their own, or re-run one of the App's
 * runs: such a run answered the job, and its starter chose who ran (and so who verified) it.
 * A run whose object names no starter (the schema does not require one) passes on the rest.
 */
export function dispatchedByApp(s: Session, run: Pick<ListedRun, 'path' | 'event' | 'head_branch' | 'head_repository' | 'actor' | 'triggering_actor'>, bot: string | null): boolean {
  const starter = starterOf(run);
  return run.path.endsWith(`/${s.cfg.config.workflow}`) && run.event === 'workflow_dispatch' && run.head_branch === s.defaultBranch && (!run.head_repository || run.head_repository.full_name === s.fullName) && (!bot || !starter || starter === bot);
}

/** A start this soon after the dispatch is not recorded: the deadline counts from the dispatch. */
export const PROMPT_START_MS = 2 * 60_000;

/** workflow_job `in_progress`: a late start recorded (see above). */
export async function onWorkflowJob(s: Session, ev: WorkflowJobEvent): Promise<void> {
  const j = ev.workflow_job;
  if (ev.action !== 'in_progress' || !j.runner_name || !j.labels.includes(ANY_RUNNER)) return;
  const nonce = nonceOfRunTitle(j.name);
  if (!nonce || (j.head_branch && j.head_branch !== s.defaultBranch)) return;
  const view = viewOf(await s.ledger.read());
  const job = view.jobs.get(nonce);
  const now = s.now();
  if (!job || view.state.results.has(nonce) || view.started.has(nonce) || now.getTime() - Date.parse(job.time) <= PROMPT_START_MS) return;
  const { data: run } = await s.octokit.rest.actions.getWorkflowRun({ ...s.repo, run_id: j.run_id });
  if (nonceOfRunTitle(run.display_title) !== nonce || !dispatchedByApp(s, run as ListedRun, await s.botLogin())) {
    s.log.warn(`workflow_job ${j.name} of run ${j.run_id}: not a run the App dispatched for job ${nonce} (${run.path}, ${run.event} on ${run.head_branch} by ${starterOf(run as ListedRun)}, "${run.display_title}")`);
    return;
  }
  await recordStart(s, view, { job_id: nonce, run_id: run.id, runner_name: j.runner_name, started_at: now.toISOString() });
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

/** Whether the tick lists runs: an open job without a recorded start, dispatched a budget ago. */
export function needsListing(s: Session, view: LedgerView): boolean {
  const now = s.now().getTime();
  return view.open.some((j) => !view.started.has(j.job_id) && now - Date.parse(j.time) > Math.min(j.budget_seconds * 1000, s.cfg.config.queue_limit_minutes * 60_000));
}

/** Pages read of one status's runs at most: 1,000 runs queued or in progress. */
export const MAX_RUN_PAGES = 10;

/**
 * The experiment workflow's runs dispatched on the default branch (in one status), newest first:
 * `pages` pages of 100 at most, read until a short page or `total_count`. One page missed the
 * older runs behind 100 newer ones (a queued run taken for started, closed as late, and sent again).
 */
export async function listRuns(s: Session, status?: 'queued' | 'in_progress', pages = 1): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for (let page = 1; page <= pages; page++) {
    const { data } = await s.octokit.rest.actions.listWorkflowRuns({ ...s.repo, workflow_id: s.cfg.config.workflow, event: 'workflow_dispatch', branch: s.defaultBranch, per_page: 100, page, ...(status ? { status } : {}) });
    runs.push(...(data.workflow_runs as ListedRun[]));
    if (data.workflow_runs.length < 100 || runs.length >= data.total_count) break;
  }
  return runs;
}

/**
 * The tick's look at the runs GitHub lists as queued and as in progress (each read page by page:
 * the newest 100 of all runs would miss a run queued for hours behind a busy fleet). Queued runs of closed jobs
 * are cancelled; an in-progress run of an open job past its deadline counted from the dispatch,
 * with no recorded start, gets one from the jobs API. Returns the runs still queued for open jobs.
 */
export async function trackRuns(s: Session, view: LedgerView): Promise<{ view: LedgerView; queued: QueuedRuns }> {
  const queued: QueuedRuns = new Map();
  const bot = await s.botLogin();
  const ours = (run: ListedRun) => {
    const nonce = nonceOfRunTitle(run.display_title);
    return nonce && dispatchedByApp(s, run, bot) && view.jobs.has(nonce) ? nonce : null;
  };
  for (const run of await listRuns(s, 'queued', MAX_RUN_PAGES)) {
    const nonce = ours(run);
    if (!nonce || run.status !== 'queued') continue;
    if (!view.state.results.has(nonce)) queued.set(nonce, run.id);
    else await cancelRun(s, run.id);
  }
  const now = s.now().getTime();
  const late = view.open.filter((j) => !view.started.has(j.job_id) && !queued.has(j.job_id) && now - Date.parse(j.time) > s.cfg.config.deadline_minutes * 60_000);
  if (!late.length) return { view, queued };
  const lateIds = new Set(late.map((j) => j.job_id));
  let changed = false;
  for (const run of await listRuns(s, 'in_progress', MAX_RUN_PAGES)) {
    const nonce = ours(run);
    if (!nonce || run.status !== 'in_progress' || !lateIds.has(nonce)) continue;
    const { data } = await s.octokit.rest.actions.listJobsForWorkflowRun({ ...s.repo, run_id: run.id, per_page: 20 });
    const job = data.jobs.find((x) => x.runner_name && (x.status === 'in_progress' || x.status === 'completed'));
    if (!job?.runner_name) continue;
    // GitHub's started_at, kept between the dispatch and now (it may be the time the job was queued: then this is the dispatch, as without a record)
    const t = Math.min(now, Math.max(Date.parse(job.started_at) || 0, Date.parse(view.jobs.get(nonce)!.time)));
    s.log.info(`reconcile: run ${run.id} of job ${nonce} is in progress on ${job.runner_name} since ${job.started_at}, with no start recorded; recording it`);
    await recordStart(s, view, { job_id: nonce, run_id: run.id, runner_name: job.runner_name, started_at: new Date(t).toISOString() });
    changed = true;
  }
  return { view: changed ? viewOf(await s.ledger.read()) : view, queued };
}

/**
 * Cancels the runs of jobs the App just closed because a push superseded their commit or their PR
 * was closed: their result is ignored, and the volunteer's GPU trained on to the end for nothing
 * (and for no credit). One listing of the newest runs, any status: a job's waiting twin (a
 * dispatch retried after its answer was lost waits in the job's concurrency group) is cancelled
 * before the run in progress, else GitHub starts it the moment that one ends. A failure is only
 * logged: the runs finish, and their results are ignored as before.
 */
export async function cancelRunsOf(s: Session, jobIds: Iterable<string>): Promise<void> {
  const ids = new Set(jobIds);
  if (!ids.size) return;
  let runs: ListedRun[];
  try {
    runs = await listRuns(s);
  } catch (e) {
    s.log.warn(`listing runs to cancel those of closed jobs failed (${(e as Error).message}); they run to the end`);
    return;
  }
  const ours = runs.filter((run) => run.status !== 'completed' && ids.has(nonceOfRunTitle(run.display_title) ?? '') && dispatchedByApp(s, run, null)); // whoever started it: a closed job's run is cancelled
  for (const run of [...ours.filter((r) => r.status !== 'in_progress'), ...ours.filter((r) => r.status === 'in_progress')]) await cancelRun(s, run.id);
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
