// Scheduling: overdue jobs re-dispatched (swarm-paid) or given up, then queued PRs dispatched
// in balance-then-age order up to the in-flight limit. Runs after every handled event, since a
// Probot App has no timer of its own. A job's deadline counts from its run's start on a runner
// (app/starts.ts); a job still queued is left alone until the queue limit, which only the tick
// enforces, on runs GitHub lists as still queued.
import type { LedgerEntry, NewEntry } from '../ledger/index.js';
import { dispatchAllowed } from './containment-gate.js';
import { ANY_RUNNER, closeJob, dispatchJobs, rerun, resultEntry, type NewJob } from './dispatch.js';
import { createCheck, updateCheck } from './github/checks.js';
import { label, moveState, removeState } from './github/labels.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { queuedSince, readyQueue, viewOf, type Dispatched, type LedgerView, type Queued } from './ledger-view.js';
import { defaultHead, outdatedAgainst, setAsideOutdated, updatesPending } from './outdated.js';
import { OWNER_LABEL_PREFIX } from './policy/runners.js';
import { stateComment } from './messages.js';
import { experimentCost } from './policy/payment.js';
import { overdueJobs, planDispatch } from './policy/schedule.js';
import { attemptLimit, outcomeSettings } from './policy/outcome.js';
import type { Session } from './session.js';
import { judgeReady, verifierFor } from './waiting.js';
import { heldBy, NOT_TAKEN, waitedOn } from './policy/refusals.js';
import { cancelRun, type QueuedRuns } from './starts.js';
import { paidHeads } from './heads.js';
import { tooNewForFree } from './author-account.js';
import { dispatchSideReplays } from './side-replays.js';
import { isSideReplay } from './policy/side-replays.js';


/** `queued`: from the tick, the runs GitHub lists as queued now, by job id (app/starts.ts): those past the queue limit are cancelled and dispatched again. */
export async function schedule(s: Session, given?: LedgerView, queuedRuns?: QueuedRuns): Promise<void> {
  let view = given ?? viewOf(await s.ledger.read());
  if (!(await dispatchAllowed(s, view))) return;
  view = await handleOverdue(s, view, queuedRuns);
  view = await judgeReady(s, view);
  view = await dispatchSideReplays(s, view);
  // a PR whose branch GitHub is updating holds the slot its outdated commit was about to take (app/outdated.ts)
  const slots = s.cfg.config.max_in_flight - view.open.length - updatesPending(view, s.now().getTime()).size;
  if (slots <= 0) return;
  // The queue is in the ledger: nothing to list, and no limit on its length.
  const queued = readyQueue(view);
  if (!queued.length) return;
  // A commit its author paid for already (re-queued: the default branch moved, its dispatch was
  // lost, the App lost track of it) runs at the swarm's cost, first: it had its turn.
  const paid = paidHeads(view);
  const again = queued.filter((q) => paid.has(`${q.pr}@${q.sha}`)).slice(0, slots);
  const fresh = queued.filter((q) => !paid.has(`${q.pr}@${q.sha}`));
  const cost = experimentCost(s.cfg.config.budget_seconds);
  const barred = new Set<string>();
  const planOn = (v: LedgerView) =>
    planDispatch(
      fresh.map((q) => ({ pr: q.pr, author: q.author, sha: q.sha, queued_at: queuedSince(q) })),
      v.open.length + again.length,
      s.cfg.config.max_in_flight,
      new Map([...v.state.balances()].map(([k, b]) => [k, b.balance])),
      new Map(fresh.map((q) => [q.author, barred.has(q.author) ? 0 : v.state.freeRunsLeft(q.author, s.cfg.config.free_runs_per_day, s.now())])),
      cost,
    );
  let plan = planOn(view);
  // an account too new for the free tier draws none at drain either (its balance spent since intake)
  for (let young = await tooNewForFree(s, view, freeOf(plan), barred, cost); young.length; young = await tooNewForFree(s, view, freeOf(plan), barred, cost)) {
    for (const login of young) barred.add(login);
    plan = planOn(view);
  }
  const picked = [...again.map((q) => ({ q, pay: null })), ...plan.dispatch.map((p) => ({ q: view.queue.get(p.pr)!, pay: p.pay }))];
  // a commit branched before the default branch last changed train.ts is not run: its branch is updated first (app/outdated.ts)
  // (again: a refused update frees its slot for the next; a requested one holds it, see `slots`)
  if (picked.length && (await setAsideAllOutdated(s, view, picked.map(({ q }) => q)))) return schedule(s);
  const jobs: NewJob[] = picked.map(({ q, pay }) => ({
    role: 'candidate',
    pr: q.pr,
    sha: q.sha,
    author: pay ? q.author : null,
    hardware_class: null,
    // a PR whose class could not establish a baseline runs on one that has one (app/waiting.ts)
    runner_label: q.on_class ?? ANY_RUNNER,
    attempt: 1,
    verifies: null,
    check: q.check,
    comment: q.comment,
    title: q.title,
    pr_author: q.author,
    pay,
  }));
  if (!jobs.length) return;
  // built on the chain it lands on: a PR another process judged, dequeued or dispatched meanwhile is
  // no longer queued there, and nothing is dispatched (found by the fault run: a waiting PR judged
  // by one process and dispatched from its stale queue by another ran its candidate twice)
  // So are the payments: another process may have charged an author meanwhile (a new PR of theirs
  // run at once), and a plan made on the view read would spend their balance or free run again.
  const samePay = (v: LedgerView) => {
    const now = new Map(planOn(v).dispatch.map((p) => [p.pr, p.pay]));
    return plan.dispatch.every((p) => now.has(p.pr) && JSON.stringify(now.get(p.pr)) === JSON.stringify(p.pay));
  };
  const stillQueued = (chain: LedgerEntry[]) => {
    const v = chain.length === view.entries.length ? view : viewOf(chain);
    return picked.every(({ q }) => v.queue.get(q.pr)?.sha === q.sha && v.queue.get(q.pr)?.time === q.time) && (v === view || samePay(v)) ? [] : null;
  };
  if ((await dispatchJobs(s, jobs, stillQueued, {}, view.entries)) === null) return;
  for (const { q } of picked) {
    if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, { status: 'in_progress' }, 'Running', `Dispatched to a runner (budget ${s.cfg.config.budget_seconds} s).`);
    else await createCheck(s.octokit, s.repo, q.sha, { status: 'in_progress' }, 'Running', `Dispatched to a runner (budget ${s.cfg.config.budget_seconds} s).`);
    await removeState(s.octokit, s.repo, q.pr, label(q.waiting_for ? 'waiting-baseline' : 'queued'));
  }
}

/** The authors a plan pays with a free-tier run. */
function freeOf(plan: ReturnType<typeof planDispatch>): string[] {
  return plan.dispatch.filter((p) => p.pay?.amount === 0).map((p) => p.author);
}

/** Sets aside the outdated ones among queued commits about to run; whether there were any (then the queue changed). */
async function setAsideAllOutdated(s: Session, view: LedgerView, queued: Queued[]): Promise<boolean> {
  const head = await defaultHead(s);
  let any = false;
  for (const q of queued) {
    const found = await outdatedAgainst(s, q.sha, head);
    if (!found) continue;
    any = true;
    const still = (v: LedgerView) => (v.queue.get(q.pr)?.sha === q.sha && v.queue.get(q.pr)?.time === q.time ? [] : null);
    view = await setAsideOutdated(s, view, { pr: q.pr, sha: q.sha, since: queuedSince(q), check: q.check, comment: q.comment }, found, still);
  }
  return any;
}

/**
 * Closes jobs past their deadline (counted from their run's start) and, with `queued` (the tick),
 * jobs whose run is still queued past the queue limit; re-dispatches them (credited to no one) or
 * gives up. A queued run closed so is cancelled on GitHub after the ledger says so.
 */
export async function handleOverdue(s: Session, view: LedgerView, queued?: QueuedRuns): Promise<LedgerView> {
  const c = s.cfg.config;
  const base = c.budget_seconds;
  const extra = (j: { budget_seconds: number }) => Math.max(0, j.budget_seconds - base);
  const deadlineOf = (j: { budget_seconds: number }) => Math.round(c.deadline_minutes + extra(j) / 60);
  // When each open job started: as recorded (a late start, app/starts.ts); else, in the tick that
  // listed the queued runs, not yet if GitHub shows it queued, or at its dispatch (it started at
  // once). Outside the tick a job without a recorded start is not judged: it may be queued.
  const open = view.open.filter((j) => view.started.has(j.job_id) || queued);
  // a run queued for one owner's runners (a verifier) that owner will never run once banned
  const stranded = (j: Dispatched) => !!j.runner_label?.startsWith(OWNER_LABEL_PREFIX) && !!view.state.trust.banned(j.runner_label.slice(OWNER_LABEL_PREFIX.length));
  const due = overdueJobs(
    open.map((j) => {
      const at = view.started.get(j.job_id)?.started_at ?? (queued!.has(j.job_id) ? null : j.time);
      // a longer budget (a long run) moves its deadline on by the extra training time
      return { job_id: j.job_id, dispatched_at: j.time, started_at: at === null ? null : new Date(Date.parse(at) + extra(j) * 1000).toISOString(), attempt: j.attempt, limit: attemptLimit(j.role, outcomeSettings(c)), stranded: stranded(j) };
    }),
    s.now(),
    c.deadline_minutes,
    c.max_attempts,
    queued ? c.queue_limit_minutes : null,
  );
  if (!due.length) return view;
  const closes: NewEntry[] = [];
  const again: NewJob[] = [];
  const givenUp: { pr: number; sha: string; check: number | null; comment: number | null }[] = [];
  const lateLong: { issue: number; job_id: string; text: string }[] = [];
  const cancel: number[] = [];
  for (const d of due) {
    const j = view.jobs.get(d.job.job_id)!;
    const runner = view.started.get(j.job_id)?.runner_name;
    const late =
      d.why === 'deadline'
        ? `no result within ${deadlineOf(j)} minutes of its start${runner ? ` on ${runner}` : ''}`
        : d.job.stranded
          ? `${NOT_TAKEN}: it waits for ${j.runner_label}, whose owner is banned (cancelled)`
          : `${NOT_TAKEN} within ${c.queue_limit_minutes} minutes of its dispatch (cancelled)`;
    // A run past its deadline on a registered runner was held by its owner, one queued past the limit
    // for one owner's label alone was stalled by her: a refusal (app/policy/refusals.ts heldBy, waitedOn),
    // so the next attempt avoids her, and her first refusal of the job is none of its attempts
    // (test/app/red-team-hold.test.ts). A hold is recorded as her refused run.
    const by = d.why === 'deadline' ? heldBy(view, j) : waitedOn(view, j);
    const action = by ? (j.attempt - by.refused.length < (d.job.limit ?? c.max_attempts) ? 'redispatch' : 'give_up') : d.action;
    closes.push(by?.runner_name ? resultEntry(j, { reason: `${late} (attempt ${j.attempt})`, runner_name: by.runner_name, runner_owner: by.owner }) : closeJob(j, `${late} (attempt ${j.attempt})`));
    if (d.why === 'queue') cancel.push(queued!.get(j.job_id)!);
    // a replay of a baseline or verify run: the scheduler dispatches the next (app/side-replays.ts)
    if (isSideReplay(view, j)) continue;
    const refs = jobRefs(j.job_id);
    // A long run is attempted once: its requester paid for one run, and its issue says so.
    if (view.longRuns.has(j.job_id)) {
      const text = d.why === 'deadline' ? `No runner reported a result for job \`${j.job_id}\` within ${deadlineOf(j)} minutes of its start` : `No runner took job \`${j.job_id}\` within ${c.queue_limit_minutes} minutes`;
      lateLong.push({ issue: view.longRuns.get(j.job_id)!, job_id: j.job_id, text });
      continue;
    }
    if (action === 'redispatch') {
      // to a runner of an owner who neither refused nor held it and may run it; else on its labels as before
      const target = by?.hardware_class ? await verifierFor(s, by.hardware_class, by.avoid, view) : null;
      again.push(rerun(j, target ? { runner_label: target } : {}));
    } else if (j.pr !== null && j.role !== 'baseline') givenUp.push({ pr: j.pr, sha: j.sha, ...refs });
  }
  for (const g of givenUp) {
    closes.push({ type: 'experiment_discarded', data: { pr: g.pr, sha: g.sha, reason: `no runner reported a result after ${c.max_attempts} attempts`, hardware_class: null, val_bpb: null } });
  }
  // built on the chain it lands on: what another process (or tick) closed already is not closed,
  // dispatched or cancelled twice
  const ids = new Set(due.map((d) => d.job.job_id));
  const done = await dispatchJobs(s, again, (chain) => {
    const v = chain.length === view.entries.length ? view : viewOf(chain);
    return [...ids].some((id) => v.state.results.has(id)) ? null : closes;
  }, {}, view.entries);
  if (done === null) return viewOf(await s.ledger.read());
  // the ledger says the job is closed first: a cancel lost here is repeated by the next tick (app/starts.ts)
  for (const runId of cancel) await cancelRun(s, runId);
  for (const l of lateLong) {
    const body = stateComment('Long run timed out', [`${l.text}; the job is closed (a late result is ignored). The credits were spent on dispatch, as the form's terms say.`], null);
    await s.octokit.rest.issues.createComment({ ...s.repo, issue_number: l.issue, body });
  }
  for (const g of givenUp) {
    const text = `No runner reported a result after ${c.max_attempts} attempts; the experiment was given up. Push again to retry.`;
    if (g.check !== null) await updateCheck(s.octokit, s.repo, g.check, { conclusion: 'timed_out' }, 'No result', text);
    else await createCheck(s.octokit, s.repo, g.sha, { conclusion: 'timed_out' }, 'No result', text);
    await writeSticky(s.octokit, s.repo, g.pr, stateComment('Experiment given up', [text], s.cfg.notice), { knownId: g.comment });
    await moveState(s.octokit, s.repo, g.pr, 'discarded');
  }
  return viewOf(await s.ledger.read());
}
