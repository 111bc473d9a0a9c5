// Scheduling: overdue jobs re-dispatched (swarm-paid) or given up, then queued PRs dispatched
// in balance-then-age order up to the in-flight limit. Runs after every handled event, since a
// Probot App has no timer of its own.
import type { NewEntry } from '../ledger/index.js';
import { dispatchAllowed } from './containment-gate.js';
import { ANY_RUNNER, closeJob, dispatchJobs, rerun, type NewJob } from './dispatch.js';
import { createCheck, updateCheck } from './github/checks.js';
import { label, moveState, removeState } from './github/labels.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { readyQueue, viewOf, type LedgerView } from './ledger-view.js';
import { stateComment } from './messages.js';
import { experimentCost } from './policy/payment.js';
import { overdueJobs, planDispatch } from './policy/schedule.js';
import { attemptLimit, outcomeSettings } from './policy/outcome.js';
import type { Session } from './session.js';
import { judgeReady } from './waiting.js';
import { paidHeads } from './heads.js';
import { dispatchSideReplays } from './side-replays.js';
import { isSideReplay } from './policy/side-replays.js';


export async function schedule(s: Session, given?: LedgerView): Promise<void> {
  let view = given ?? viewOf(await s.ledger.read());
  if (!(await dispatchAllowed(s, view))) return;
  view = await handleOverdue(s, view);
  view = await judgeReady(s, view);
  view = await dispatchSideReplays(s, view);
  const slots = s.cfg.config.max_in_flight - view.open.length;
  if (slots <= 0) return;
  // The queue is in the ledger: nothing to list, and no limit on its length.
  const queued = readyQueue(view);
  if (!queued.length) return;
  // A commit its author paid for already (re-queued: the default branch moved, its dispatch was
  // lost, the App lost track of it) runs at the swarm's cost, first: it had its turn.
  const paid = paidHeads(view);
  const again = queued.filter((q) => paid.has(`${q.pr}@${q.sha}`)).slice(0, slots);
  const fresh = queued.filter((q) => !paid.has(`${q.pr}@${q.sha}`));
  const balances = view.state.balances();
  const cost = experimentCost(s.cfg.config.budget_seconds);
  const plan = planDispatch(
    fresh.map((q) => ({ pr: q.pr, author: q.author, sha: q.sha, queued_at: q.time })),
    view.open.length + again.length,
    s.cfg.config.max_in_flight,
    new Map([...balances].map(([k, b]) => [k, b.balance])),
    new Map(fresh.map((q) => [q.author, view.state.freeRunsLeft(q.author, s.cfg.config.free_runs_per_day, s.now())])),
    cost,
  );
  const picked = [...again.map((q) => ({ q, pay: null })), ...plan.dispatch.map((p) => ({ q: view.queue.get(p.pr)!, pay: p.pay }))];
  const jobs: NewJob[] = picked.map(({ q, pay }) => ({
    role: 'candidate',
    pr: q.pr,
    sha: q.sha,
    author: pay ? q.author : null,
    hardware_class: null,
    runner_label: ANY_RUNNER,
    attempt: 1,
    verifies: null,
    check: q.check,
    comment: q.comment,
    title: q.title,
    pr_author: q.author,
    pay,
  }));
  if (!jobs.length) return;
  await dispatchJobs(s, jobs);
  for (const { q } of picked) {
    if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, { status: 'in_progress' }, 'Running', `Dispatched to a runner (budget ${s.cfg.config.budget_seconds} s).`);
    else await createCheck(s.octokit, s.repo, q.sha, { status: 'in_progress' }, 'Running', `Dispatched to a runner (budget ${s.cfg.config.budget_seconds} s).`);
    await removeState(s.octokit, s.repo, q.pr, label(q.waiting_for ? 'waiting-baseline' : 'queued'));
  }
}

/** Closes jobs past their deadline; re-dispatches them (credited to no one) or gives up. */
export async function handleOverdue(s: Session, view: LedgerView): Promise<LedgerView> {
  const base = s.cfg.config.budget_seconds;
  const extra = (j: { budget_seconds: number }) => Math.max(0, j.budget_seconds - base);
  const deadlineOf = (j: { budget_seconds: number }) => Math.round(s.cfg.config.deadline_minutes + extra(j) / 60);
  const due = overdueJobs(
    // a longer budget (a long run) moves its deadline on by the extra training time
    view.open.map((j) => ({ job_id: j.job_id, dispatched_at: new Date(Date.parse(j.time) + extra(j) * 1000).toISOString(), attempt: j.attempt, limit: attemptLimit(j.role, outcomeSettings(s.cfg.config)) })),
    s.now(),
    s.cfg.config.deadline_minutes,
    s.cfg.config.max_attempts,
  );
  if (!due.length) return view;
  const closes: NewEntry[] = [];
  const again: NewJob[] = [];
  const givenUp: { pr: number; sha: string; check: number | null; comment: number | null }[] = [];
  const lateLong: { issue: number; job_id: string }[] = [];
  for (const d of due) {
    const j = view.jobs.get(d.job.job_id)!;
    closes.push(closeJob(j, `no result within ${deadlineOf(j)} minutes (attempt ${j.attempt})`));
    // a replay of a baseline or verify run: the scheduler dispatches the next (app/side-replays.ts)
    if (isSideReplay(view, j)) continue;
    const refs = jobRefs(j.job_id);
    // A long run is attempted once: its requester paid for one run, and its issue says so.
    if (view.longRuns.has(j.job_id)) {
      lateLong.push({ issue: view.longRuns.get(j.job_id)!, job_id: j.job_id });
      continue;
    }
    if (d.action === 'redispatch') {
      again.push(rerun(j));
    } else if (j.pr !== null && j.role !== 'baseline') givenUp.push({ pr: j.pr, sha: j.sha, ...refs });
  }
  for (const g of givenUp) {
    closes.push({ type: 'experiment_discarded', data: { pr: g.pr, sha: g.sha, reason: `no runner reported a result after ${s.cfg.config.max_attempts} attempts`, hardware_class: null, val_bpb: null } });
  }
  await dispatchJobs(s, again, closes);
  for (const l of lateLong) {
    const minutes = deadlineOf(view.jobs.get(l.job_id)!);
    const body = stateComment('Long run timed out', [`No runner reported a result for job \`${l.job_id}\` within ${minutes} minutes; the job is closed (a late result is ignored). The credits were spent on dispatch, as the form's terms say.`], null);
    await s.octokit.rest.issues.createComment({ ...s.repo, issue_number: l.issue, body });
  }
  for (const g of givenUp) {
    const text = `No runner reported a result after ${s.cfg.config.max_attempts} attempts; the experiment was given up. Push again to retry.`;
    if (g.check !== null) await updateCheck(s.octokit, s.repo, g.check, { conclusion: 'timed_out' }, 'No result', text);
    else await createCheck(s.octokit, s.repo, g.sha, { conclusion: 'timed_out' }, 'No result', text);
    await writeSticky(s.octokit, s.repo, g.pr, stateComment('Experiment given up', [text], s.cfg.notice), { knownId: g.comment });
    await moveState(s.octokit, s.repo, g.pr, 'discarded');
  }
  return viewOf(await s.ledger.read());
}
