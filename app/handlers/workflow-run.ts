// workflow_run completed for the experiment workflow: fetch the result, check it against what
// the App dispatched and what GitHub serves, record it, and act on the verdict.
import type { LedgerEntry, NewEntry } from '../../ledger/index.js';
import { ANY_RUNNER, dispatchJobs, rerun, type NewJob } from '../dispatch.js';
import { createCheck, updateCheck } from '../github/checks.js';
import { moveState, type ExperimentState } from '../github/labels.js';
import { writeSticky } from '../github/sticky-comment.js';
import { jobRefs } from '../jobs.js';
import { classAt, viewOf, type Dispatched, type LedgerView } from '../ledger-view.js';
import { scoreSummary, stateComment } from '../messages.js';
import { baselineFromRuns, type Baseline } from '../policy/baseline.js';
import { outcome, type Outcome } from '../policy/outcome.js';
import { checkResult } from '../policy/result-check.js';
import { pickVerifierLabel, type ApiRunner } from '../policy/runners.js';
import { replicateDiscard, trustPolicyOf } from '../policy/replication.js';
import { schedule } from '../scheduler.js';
import { baselineJobs, baselineJobsFor } from '../baselines.js';
import { merge } from '../merge.js';
import { reconcile } from '../reconcile.js';
import { once, record, withGrants } from '../record.js';
import { judge } from './judge.js';
import { takeResult } from './result-intake.js';
import { appendBuilt, type Session } from '../session.js';

export interface WorkflowRunEvent {
  action: string;
  workflow_run: { id: number; path: string; event: string; display_title?: string | null; head_branch: string | null; head_sha: string; html_url: string; head_repository?: { full_name: string } | null };
}

/** the scheduled no-op workflow whose completion is the App's clock tick */
export const TICK_WORKFLOW = 'tick.yml';

export async function onWorkflowRun(s: Session, ev: WorkflowRunEvent): Promise<void> {
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
  // workflow (event pull_request, its own branch) and upload an artifact of the same name.
  if (run.event !== 'workflow_dispatch' || run.head_branch !== s.defaultBranch || (run.head_repository && run.head_repository.full_name !== s.fullName)) {
    s.log.warn(`ignoring run ${run.id}: ${run.event} on ${run.head_branch} of ${run.head_repository?.full_name}, not a dispatch on ${s.defaultBranch}`);
    return;
  }
  let view = viewOf(await s.ledger.read());
  const took = await takeResult(s, run, view);
  if (took.kind === 'skip') {
    s.log.info(`run ${run.id}: ${took.why}`);
    return took.tick ? schedule(s, view) : undefined;
  }
  if (took.kind === 'stray') {
    view = (await record(s, view, took.job_id, took.news)) ?? view;
    return schedule(s, view);
  }
  const { job, runnerName, runnerOwner, checked, pull, news } = took;
  const files: Record<string, string> = {};

  const issue = view.longRuns.get(job.job_id);
  if (issue !== undefined) return recordLongRun(s, view, job, issue, { run, runnerName, runnerOwner, checked, news, files });

  const { out, baseline, news: judged } = judge(s, view, { job, checked, runnerOwner, author: job.pr_author ?? pull?.user?.login ?? job.author, resultTime: took.time, runHeadSha: run.head_sha });
  news.push(...judged);
  s.log.info({ job: job.job_id, outcome: out.kind }, 'scored');
  const ctx: Ctx = { s, job, run, pull, runnerName, runnerOwner, baseline, checked, news, files };
  await act(ctx, view, out);
}

/**
 * A long run's result is recorded (and its runner credited) like any other, but it claims
 * nothing: no baseline, no verification, no merge. Its requester reads it on their issue.
 */
async function recordLongRun(
  s: Session,
  view: LedgerView,
  job: Dispatched,
  issue: number,
  x: Pick<Ctx, 'run' | 'runnerName' | 'runnerOwner' | 'checked' | 'news' | 'files'>,
): Promise<void> {
  const after = await record(s, view, job.job_id, x.news, x.files);
  if (!after) return;
  const r = x.checked.result;
  const verdict = x.checked.validated ? `Recorded in the ledger as job \`${job.job_id}\`.` : `The result was rejected: ${x.checked.reason}. Nothing was credited for it.`;
  const body = stateComment(
    `Long run finished: ${r?.val_bpb != null ? `val_bpb ${r.val_bpb.toFixed(4)}` : 'no score'}`,
    [`\`${job.sha.slice(0, 7)}\` trained for ${job.budget_seconds} s.`, '', scoreSummary({ result: r, baseline: null, threshold: null, runnerName: x.runnerName, runnerOwner: x.runnerOwner, runUrl: x.run.html_url, verdict })],
    null,
  );
  await s.octokit.rest.issues.createComment({ ...s.repo, issue_number: issue, body });
  return schedule(s, after);
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
    case 'baseline_run': {
      const news = [...x.news];
      const cls = r!.hardware_class;
      const runs = [...view.baselineRuns];
      if (r!.status === 'ok' && r!.val_bpb !== null) runs.push({ hardware_class: cls, sha: job.sha, val_bpb: r!.val_bpb, tokens_per_second: r!.tokens_per_second, job_id: job.job_id, owner: x.runnerOwner });
      const agree = { owners: s.cfg.config.trust.baseline_owners, tolerance: s.cfg.config.verification.tolerance };
      const b = view.baselines.has(classAt(cls, job.sha)) ? null : baselineFromRuns(runs, cls, job.sha, s.cfg.config.baseline_runs, agree);
      if (b) news.push({ type: 'baseline_recorded', data: { hardware_class: cls, sha: job.sha, mean: b.mean, sigma: b.sigma, n: b.n, tokens_per_second: b.tokens_per_second, job_ids: b.job_ids } });
      const after = await record(s, view, job.job_id, news, x.files);
      if (!after) return;
      view = after;
      if (b) view = await judgeWaiting(s, view, { hardware_class: cls, sha: job.sha, mean: b.mean, sigma: b.sigma, n: b.n, tokens_per_second: b.tokens_per_second });
      // no two owners agree yet: one more run of the class, up to twice the configured count
      else if (!view.baselines.has(classAt(cls, job.sha))) await dispatchJobs(s, await baselineJobsFor(s, view, cls, job.sha, s.cfg.config.baseline_runs, true), [], {}, view.entries);
      return schedule(s, view); // PRs that waited for this baseline without a score run again
    }
    case 'retry': {
      const elsewhere = out.elsewhere ? { runner_label: await verifierLabel(s, job.hardware_class ?? r?.hardware_class ?? ANY_RUNNER, [out.elsewhere]) } : {};
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
      const jobs = await baselineJobsFor(s, view, out.hardware_class, run.head_sha, s.cfg.config.baseline_runs);
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
      if (out.kind === 'verify_again' && job.attempt >= s.cfg.config.max_attempts) {
        return act(x, view, { kind: 'refuted', reason: `no independent verification after ${job.attempt} attempts (last: ${out.reason})`, claim: out.claim });
      }
      const target = await verifierLabel(s, cls, out.exclude_owners);
      const verifyJob = again({ role: 'verify', hardware_class: cls, runner_label: target, verifies: claimId, attempt: out.kind === 'verify' ? 1 : job.attempt + 1 });
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
    case 'merge':
      return merge(x, view, out);
  }
}

/** The label of an online, idle runner of `cls` owned by none of `exclude` (the class itself when there is none now). */
async function verifierLabel(s: Session, cls: string, exclude: string[]): Promise<string> {
  const { data: runners } = await s.octokit.rest.actions.listSelfHostedRunnersForRepo({ ...s.repo, per_page: 100 });
  return pickVerifierLabel(runners.runners as ApiRunner[], cls, exclude) ?? cls;
}

/**
 * PRs that waited for this baseline already hold a valid score on its class and commit: that
 * score is judged now (discarded, or sent to verification) instead of training again. A PR
 * without one, or whose score would merge at once (quorum 0), stays in the queue and runs again.
 */
async function judgeWaiting(s: Session, view: LedgerView, baseline: Baseline): Promise<LedgerView> {
  const c = s.cfg.config;
  for (const q of [...view.queue.values()]) {
    const w = q.waiting_for;
    if (!w || w.hardware_class !== baseline.hardware_class || w.sha !== baseline.sha) continue;
    const scored = [...view.state.results.values()]
      .map((e) => e.data)
      .filter((r) => r.pr === q.pr && r.sha === q.sha && r.role === 'candidate' && r.validated && r.result?.status === 'ok' && r.result.val_bpb !== null && r.result.hardware_class === w.hardware_class && !view.longRuns.has(r.job_id))
      .at(-1);
    const job = scored ? view.jobs.get(scored.job_id) : undefined;
    if (!scored?.result || !job) continue;
    const r = scored.result;
    let out = outcome(
      { role: 'candidate', validated: true, reason: null, result: r, attempt: job.attempt, runnerOwner: scored.runner_owner, baseline, claim: null, replicas: [], author: q.author },
      { margin: c.margin, quorum: c.verification.quorum, tolerance: c.verification.tolerance, maxAttempts: c.max_attempts },
    );
    const recordedAt = view.state.results.get(scored.job_id)!.time;
    const replicate = out.kind === 'discard' ? replicateDiscard(view.state, trustPolicyOf(c), scored.runner_owner, recordedAt, scored.job_id) : null;
    if (out.kind === 'discard' && replicate) out = { kind: 'verify', threshold: out.threshold, delta: null, exclude_owners: [scored.runner_owner, q.author].filter((o): o is string => !!o), replicate };
    if (out.kind !== 'discard' && out.kind !== 'verify') continue;
    // once: a second process (or a redelivery) finds the PR no longer waiting and does nothing
    const stillWaiting = (entries: LedgerEntry[]) => {
      const now = entries.length === view.entries.length ? view : viewOf(entries);
      const e = now.queue.get(q.pr);
      return e?.sha === q.sha && e.waiting_for?.hardware_class === w.hardware_class && e.waiting_for.sha === w.sha ? now : null;
    };
    const summary = (verdict: string, t: number) => scoreSummary({ result: r, baseline, threshold: t, runnerName: scored.runner_name, runnerOwner: scored.runner_owner, runUrl: scored.run_url, verdict });
    const sticky = (title: string, lines: string[]) => writeSticky(s.octokit, s.repo, q.pr, stateComment(title, lines, s.cfg.notice), { knownId: q.comment });
    const check = async (state: Parameters<typeof updateCheck>[3], title: string, text: string) => {
      if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, state, title, text, scored.run_url);
      else await createCheck(s.octokit, s.repo, q.sha, state, title, text);
    };
    if (out.kind === 'discard') {
      const news: NewEntry[] = [{ type: 'experiment_discarded', data: { pr: q.pr, sha: q.sha, reason: out.reason, hardware_class: r.hardware_class, val_bpb: r.val_bpb } }];
      let skipped = false;
      await appendBuilt(s, view.entries, (entries) => {
        const now = stillWaiting(entries);
        skipped = now === null;
        return now ? withGrants(now, news) : [];
      });
      if (skipped) continue;
      view = viewOf(await s.ledger.read());
      await check({ conclusion: 'neutral' }, 'No improvement', summary(`Judged against the new baseline: discarded, ${out.reason}.`, out.threshold!));
      await sticky('No improvement', [`Judged against the new ${w.hardware_class} baseline: discarded, ${out.reason}.`, 'Change `trainer/train.ts` and push to try again.']);
      await moveState(s.octokit, s.repo, q.pr, 'discarded');
      if (c.close_on_discard && s.cfg.mayAct) await s.octokit.rest.pulls.update({ ...s.repo, pull_number: q.pr, state: 'closed' });
      continue;
    }
    const target = await verifierLabel(s, w.hardware_class, out.exclude_owners);
    const verifyJob = rerun(job, { role: 'verify', hardware_class: w.hardware_class, runner_label: target, verifies: job.job_id, attempt: 1, check: q.check, comment: q.comment });
    const dequeue: NewEntry = { type: 'experiment_dequeued', data: { pr: q.pr, sha: q.sha, reason: `judged against the new ${w.hardware_class} baseline: ${out.replicate ? 're-run by another owner before it is discarded' : 'improvement claimed, verifying'}` } };
    if (!(await dispatchJobs(s, [verifyJob], (entries) => (stillWaiting(entries) ? [dequeue] : null), {}, view.entries))) continue;
    view = viewOf(await s.ledger.read());
    const title = out.replicate ? 'Checking the result on another runner' : 'Improvement claimed; verifying';
    await check({ status: 'in_progress' }, title, summary(out.replicate ? `Judged against the new baseline: no improvement; before it counts, a runner of another owner (\`${target}\`) re-runs it: ${out.replicate}.` : `Judged against the new baseline: claims an improvement; a runner of another owner (\`${target}\`) is re-running it.`, out.threshold ?? 0));
    await sticky(title, [out.replicate ? `No improvement against the new ${w.hardware_class} baseline; a runner of another owner re-runs it before the PR is discarded (${out.replicate}).` : `val_bpb ${r.val_bpb!.toFixed(4)} beats the new ${w.hardware_class} baseline; verifying on a runner of another owner before merging.`]);
    await moveState(s.octokit, s.repo, q.pr, 'verifying');
  }
  return view;
}

export { baselineJobs };
