// workflow_run completed for the experiment workflow: fetch the result, check it against what
// the App dispatched and what GitHub serves, record it, and act on the verdict.
import { setAsideRun } from '../outdated.js';
import type { NewEntry } from '../../ledger/index.js';
import { ANY_RUNNER, dispatchJobs, rerun, type NewJob, type ReplaySpec } from '../dispatch.js';
import { createCheck, updateCheck } from '../github/checks.js';
import { moveState, type ExperimentState } from '../github/labels.js';
import { writeSticky } from '../github/sticky-comment.js';
import { jobRefs } from '../jobs.js';
import { chainAttempt, viewOf, type Dispatched, type LedgerView } from '../ledger-view.js';
import { scoreSummary, stateComment } from '../messages.js';
import type { Baseline } from '../policy/baseline.js';
import type { Outcome } from '../policy/outcome.js';
import { checkResult } from '../policy/result-check.js';
import { schedule } from '../scheduler.js';
import { baselineJobsFor } from '../baselines.js';
import { merge } from '../merge.js';
import { reconcile } from '../reconcile.js';
import { once, record, recordStray } from '../record.js';
import { judge } from './judge.js';
import { recordLongRun } from './long-run.js';
import { recordBaselineRun, settleSideReplay } from './samples.js';
import { takeResult } from './result-intake.js';
import { codeGone } from '../policy/code-gone.js';
import { noVerifier, verifierFor, verifierLabel } from '../waiting.js';
import type { Session } from '../session.js';
import { dispatchedByApp, starterOf } from '../starts.js';

export interface WorkflowRunEvent {
  action: string;
  workflow_run: { id: number; path: string; event: string; display_title?: string | null; head_branch: string | null; head_sha: string; html_url: string; head_repository?: { full_name: string } | null; actor?: { login: string } | null; triggering_actor?: { login: string } | null };
}

/** the scheduled no-op workflow whose completion is the App's clock tick */
export const TICK_WORKFLOW = 'tick.yml';

export async function onWorkflowRun(s: Session, ev: WorkflowRunEvent, again = false): Promise<void> {
  const run = ev.workflow_run;
  if (ev.action !== 'completed') return;
  // The App has no timer of its own: tick.yml, on a schedule on the default branch, completes
  // every few minutes, and its event is when the ledger is reconciled with GitHub (app/reconcile.ts),
  // overdue jobs are re-dispatched and the queue drained.
  if (run.path.endsWith(`/${TICK_WORKFLOW}`)) {
    if ((run.event === 'schedule' || run.event === 'workflow_dispatch') && run.head_branch === s.defaultBranch) return reconcile(s);
    return;
  }
  if (!run.path.endsWith(`/${s.cfg.config.workflow}`)) return;
  // Only runs the App dispatched count: a PR can add its own trigger to a copy of the
  // workflow (event pull_request, its own branch) and upload an artifact of the same name, and a
  // writer can dispatch (or re-run) the workflow itself (app/starts.ts, dispatchedByApp).
  if (!dispatchedByApp(s, run, await s.botLogin())) {
    s.log.warn(`ignoring run ${run.id}: ${run.event} on ${run.head_branch} of ${run.head_repository?.full_name} by ${starterOf(run)}, not the App's dispatch on ${s.defaultBranch}`);
    return;
  }
  let view = viewOf(await s.ledger.read());
  const took = await takeResult(s, run, view);
  if (took.kind === 'skip') {
    s.log.info(`run ${run.id}: ${took.why}`);
    return took.tick ? schedule(s, view) : undefined;
  }
  if (took.kind === 'stray') {
    const after = await recordStray(s, view, took.job_id, took.news);
    if (after === 'known' && !again) return onWorkflowRun(s, ev, true); // this process's view was behind
    return schedule(s, after === 'known' ? undefined : (after ?? view));
  }
  const { job, runnerName, runnerOwner, checked, pull, news, digest } = took;
  const files: Record<string, string> = {};

  // A verify run, or a replay, may decide a claim together with the claim's other runs and their
  // replays: that is judged on the chain as it is now, not on a view this process trusts for minutes
  // (ledger/github-store.ts). On an older view (a replay of one of the claim's runs not yet judged
  // there) the claim waited again for a replay already judged, none was sent, and the PR stalled
  // until the reconcile pass queued it to train again (fault runs: seed 7 fault seed 4, a replay;
  // seed 3 at 300 PRs, a verify run). One conditional request; moved, the event is handled again.
  if (!again && s.ledger.readFresh && job.role === 'verify') {
    if ((await s.ledger.readFresh()).length !== view.entries.length) return onWorkflowRun(s, ev, true);
  }
  const issue = view.longRuns.get(job.job_id);
  if (issue !== undefined) return recordLongRun(s, view, job, issue, { run, runnerName, runnerOwner, checked, news, files });

  // a PR run on a default branch that changed train.ts since the PR branched judges nothing (app/outdated.ts)
  const gone = !checked.validated && checked.gone ? codeGone(view, job, checked.reason) : null; // its code is gone: not compared, given up
  if (!gone && (await setAsideRun(s, view, { job, runHeadSha: run.head_sha, news, files }))) return schedule(s);
  const { out, baseline, news: judged, replay } = gone ?? judge(s, view, { job, checked, runnerOwner, author: job.pr_author ?? pull?.user?.login ?? job.author, resultTime: took.time, runHeadSha: run.head_sha, digest, recorded: news });
  news.push(...judged);
  s.log.info({ job: job.job_id, outcome: out.kind }, 'scored');
  const ctx: Ctx = { s, job, run, pull, runnerName, runnerOwner, baseline, checked, news, files, replay, redo: again ? null : () => onWorkflowRun(s, ev, true) };
  await act(ctx, view, out);
}

interface Ctx {
  s: Session;
  job: Dispatched;
  run: WorkflowRunEvent['workflow_run'];
  /** the PR as GitHub serves it, when it was looked up (older job entries without a title) */
  pull: { number: number; title: string; head: { sha: string }; user: { login: string } | null } | null;
  runnerName: string | null;
  runnerOwner: string | null;
  baseline: Baseline | null;
  checked: ReturnType<typeof checkResult>;
  news: NewEntry[];
  files: Record<string, string>;
  /** a verify job the outcome asks for repeats this replay (docs/trust.md, "Replays"); null: fresh seeds */
  replay?: ReplaySpec | null;
  /** handles the event again on the chain as it is now (once: null the second time) */
  redo: (() => Promise<void>) | null;
}

async function act(x: Ctx, view: LedgerView, out: Outcome): Promise<void> {
  const { s, job, run } = x;
  const refs = jobRefs(job.job_id);
  const r = x.checked.result;
  const summary = (verdict: string, threshold: number | null = null) =>
    scoreSummary({ result: r, baseline: x.baseline, threshold, runnerName: x.runnerName, runnerOwner: x.runnerOwner, runUrl: run.html_url, verdict });
  const report = async (state: ExperimentState | null, check: Parameters<typeof updateCheck>[3], title: string, text: string, comment: string[]) => {
    if (job.pr === null) return;
    if (refs.check !== null) await updateCheck(s.octokit, s.repo, refs.check, check, title, text, run.html_url);
    else await createCheck(s.octokit, s.repo, job.sha, check, title, text);
    await writeSticky(s.octokit, s.repo, job.pr, stateComment(title, comment, s.cfg.notice), { knownId: refs.comment, fresh: refs.newComment });
    // the label last: one that disagrees with the ledger tells the reconcile pass the report may be unfinished
    if (state) await moveState(s.octokit, s.repo, job.pr, state);
  };
  const again = (extra: Partial<NewJob>): NewJob => rerun(job, extra);
  // A push closes the old commit's job (a result for it stops at "already recorded"), so an open
  // job is its PR's current commit; a PR looked up says so itself.
  const current = !x.pull || x.pull.head.sha === job.sha;

  switch (out.kind) {
    case 'baseline_run':
      return recordBaselineRun(x, view);
    case 'side_replay':
      // decided on a view older than the chain, where the claim the replay settles goes on: again
      if ((await settleSideReplay(x, view, out, !!x.redo)) === 'stale') return x.redo!();
      return;
    case 'retry': {
      const elsewhere = out.elsewhere ? { runner_label: await verifierLabel(s, job.hardware_class ?? view.registry.get(x.runnerName ?? '')?.hardware_class ?? ANY_RUNNER, [out.elsewhere, ...(out.avoid ?? [])], view) } : {};
      if (!(await dispatchJobs(s, current ? [again(elsewhere)] : [], once(view, job.job_id, x.news), x.files, view.entries))) return;
      await report(null, { status: 'in_progress' }, 'Result rejected; running again', summary(`The result was rejected: ${out.reason}. Running again on another runner (attempt ${job.attempt + 1}).`), [
        `The run's result was rejected (${out.reason}); the experiment runs again.`,
      ]);
      return;
    }
    case 'give_up':
    case 'discard':
    case 'refuted': {
      const news = [...x.news];
      const reason = out.reason;
      if (job.pr !== null && current) {
        news.push({ type: 'experiment_discarded', data: { pr: job.pr, sha: job.sha, reason, hardware_class: r?.hardware_class ?? null, val_bpb: out.kind === 'refuted' ? out.claim.val_bpb : (r?.val_bpb ?? null) } });
      }
      const after = await record(s, view, job.job_id, news, x.files);
      if (!after) return;
      view = after;
      if (!current) return schedule(s, view);
      const t = out.kind === 'discard' ? out.threshold : null;
      const noGain = out.kind === 'discard' && out.val_bpb !== null;
      await report('discarded', { conclusion: noGain ? 'neutral' : 'failure' }, noGain ? 'No improvement' : 'Discarded', summary(`Discarded: ${reason}.`, t), [
        `Discarded: ${reason}.`,
        'Change `trainer/train.ts` and push to try again.',
      ]);
      if (job.pr !== null && s.cfg.config.close_on_discard && s.cfg.mayAct) await s.octokit.rest.pulls.update({ ...s.repo, pull_number: job.pr, state: 'closed' });
      return schedule(s, view);
    }
    case 'wait_baseline': {
      const jobs = await baselineJobsFor(s, view, out.hardware_class, run.head_sha, s.cfg.config);
      // back in the queue, to run again once the baseline exists (recorded with the result)
      const news = [...x.news];
      if (job.pr !== null && current) {
        news.push({ type: 'experiment_queued', data: { pr: job.pr, sha: job.sha, author: job.pr_author ?? x.pull?.user?.login ?? job.author ?? 'ghost', title: job.title ?? x.pull?.title ?? null, check: refs.check, comment: refs.comment, waiting_for: { hardware_class: out.hardware_class, sha: run.head_sha } } });
      }
      if (!(await dispatchJobs(s, jobs, once(view, job.job_id, news), x.files, view.entries))) return;
      await report('waiting-baseline', { status: 'in_progress' }, 'Waiting for a baseline', summary(`Scored, but ${out.hardware_class} has no baseline of the default branch yet; ${jobs.length} baseline runs were dispatched and this PR runs again once it exists.`), [
        `Scored on ${out.hardware_class}, which has no baseline yet; the experiment runs again once the baseline exists.`,
      ]);
      return;
    }
    case 'verify':
    case 'verify_again': {
      const claimId = out.kind === 'verify' ? job.job_id : out.claim.job_id;
      const cls = out.kind === 'verify' ? r!.hardware_class : out.claim.hardware_class;
      // counted runs are bounded by the sequential test (verification.max_runs); refused ones by max_attempts
      if (out.kind === 'verify_again' && job.attempt >= s.cfg.config.max_attempts + s.cfg.config.verification.max_runs) {
        return act(x, view, { kind: 'refuted', reason: `no independent verification after ${job.attempt} attempts (last: ${out.reason})`, claim: out.claim });
      }
      const target = await verifierFor(s, cls, out.exclude_owners, view);
      const author = job.pr_author ?? x.pull?.user?.login ?? job.author;
      const stuck = target === null && (await noVerifier(s, view, { cls, sha: x.baseline?.sha ?? run.head_sha, exclude: out.exclude_owners, replay: !!x.replay && !(out.kind === 'verify_again' && out.replays), claimId, owners: [x.runnerOwner, author], val_bpb: out.kind === 'verify_again' ? out.claim.val_bpb : (r?.val_bpb ?? null) }));
      if (stuck) return act(x, view, stuck);
      const verifyJob = again({ role: 'verify', hardware_class: cls, runner_label: target ?? cls, verifies: (out.kind === 'verify_again' && out.replays) || claimId, attempt: out.kind === 'verify' ? 1 : chainAttempt(view, claimId, job) + 1, replay: x.replay ?? null });
      if (!(await dispatchJobs(s, current ? [verifyJob] : [], once(view, job.job_id, x.news), x.files, view.entries))) return;
      if (!current) return;
      const t = out.kind === 'verify' ? out.threshold : null;
      const replicate = out.kind === 'verify' ? out.replicate : undefined;
      if (replicate) {
        await report('verifying', { status: 'in_progress' }, 'Checking the result on another runner', summary(`No improvement on this run; before it counts, a runner of another owner (\`${target}\`) re-runs it: ${replicate}.`, t), [
          `This run shows no improvement; a runner of another owner re-runs it before the PR is discarded (${replicate}).`,
        ]);
        return;
      }
      await report('verifying', { status: 'in_progress' }, 'Improvement claimed; verifying', summary(`Claims an improvement; a runner of another owner (\`${target}\`) is re-running it.`, t), [
        out.kind === 'verify' ? `val_bpb ${r?.val_bpb?.toFixed(4)} beats the baseline; verifying on a runner of another owner before merging.` : `Runs so far: ${out.reason}; running it on another owner's runner.`,
      ]);
      return;
    }
    case 'run_elsewhere': {
      const queued: NewEntry = { type: 'experiment_queued', data: { pr: job.pr!, sha: job.sha, author: job.pr_author ?? x.pull?.user?.login ?? job.author ?? 'ghost', title: job.title ?? x.pull?.title ?? null, check: refs.check, comment: refs.comment, waiting_for: null, on_class: out.hardware_class } };
      const after = await record(s, view, job.job_id, current && job.pr !== null ? [...x.news, queued] : x.news, x.files);
      if (!after) return;
      if (current) await report('queued', { status: 'queued' }, `Running on ${out.hardware_class}`, summary(`${out.reason}.`), [`${out.reason}.`]);
      return schedule(s, after);
    }
    case 'merge':
      return merge(x, view, out);
  }
}
