// pull_request opened / synchronize / reopened: validate the change, supersede the old SHA's
// job, and run it at once when a slot is free (else queue it). Events come in any order and any
// number of times: the PR's head as GitHub has it now wins, and a commit the ledger already
// knows is not handled twice.
import type { LedgerEntry, NewEntry } from '../../ledger/index.js';
import { dispatchRefusal } from '../containment-gate.js';
import { ANY_RUNNER, closeJob, dispatchJobs } from '../dispatch.js';
import { createCheck, updateCheck } from '../github/checks.js';
import { fileAt, NotARegularFile, TooLargeToRead } from '../github/files.js';
import { code } from '../policy/shown.js';
import { authorRefusal, freeTierRefusal } from '../author-account.js';
import { setState } from '../github/labels.js';
import { writeSticky } from '../github/sticky-comment.js';
import { jobRefs } from '../jobs.js';
import { viewOf, type LedgerView } from '../ledger-view.js';
import { invalidComment, stateComment } from '../messages.js';
import { experimentCost, payment } from '../policy/payment.js';
import { tooLarge, validateCandidateFile, validateChangedFiles } from '../policy/validate.js';
import { closedReason, heldClaimsClosed, paidHeads, seenHeads, sideReplayEntry, SUPERSEDED } from '../heads.js';
import { carriedPlace, defaultHead, outdatedAgainst, setAsideOutdated, updatesPending } from '../outdated.js';
import { handleOverdue, schedule } from '../scheduler.js';
import { appendBuilt, type Session } from '../session.js';
import { cancelRunsOf } from '../starts.js';

type Pull = { number: number; state: string; title: string; head: { sha: string }; user: { login: string; id?: number } | null; labels: { name: string }[] };

export interface PullRequestEvent {
  action: string;
  number: number;
  pull_request: Pull;
  /** synchronize: the head before this push */
  before?: string;
  /** who made the push (the App's bot for GitHub's update of a branch the App asked for) */
  sender?: { login: string } | null;
}

/** Whether the ledger holds any record of this PR at another commit: then the payload's head may be stale. */
function knowsOtherCommit(view: LedgerView, pr: number, sha: string): boolean {
  return view.entries.some((e) => {
    const d = e.data as { pr?: number | null; sha?: string };
    return d.pr === pr && d.sha !== undefined && d.sha !== sha;
  });
}

export async function onPullRequest(s: Session, ev: PullRequestEvent): Promise<void> {
  let pr = ev.pull_request;
  if (pr.state !== 'open') return;
  const before = viewOf(await s.ledger.read());
  if (knowsOtherCommit(before, pr.number, pr.head.sha)) {
    // An event of an older push may arrive after a newer one: GitHub says which commit is the head.
    const { data } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: pr.number });
    if (data.state !== 'open') return;
    pr = { number: data.number, state: data.state, title: data.title, head: { sha: data.head.sha }, user: data.user ? { login: data.user.login, id: data.user.id } : null, labels: data.labels.map((l) => ({ name: l.name ?? '' })) };
  }
  const sha = pr.head.sha;
  const author = pr.user?.login ?? 'ghost';
  const fresh = ev.action === 'opened' && pr.head.sha === ev.pull_request.head.sha;
  // Redelivered (or handled by another App process): this commit already runs, waits or was judged.
  const running = (v: LedgerView) => v.queue.get(pr.number)?.sha === sha || v.open.some((j) => j.pr === pr.number && j.sha === sha && j.role !== 'baseline' && !v.longRuns.has(j.job_id));
  if (ev.action === 'reopened' ? running(before) : seenHeads(before).has(`${pr.number}@${sha}`) || running(before)) return;

  const { data: files } = await s.octokit.rest.pulls.listFiles({ ...s.repo, pull_number: pr.number, per_page: 100 });
  const changed = validateChangedFiles(files, s.cfg.config.editable_paths);
  let problems = changed.ok ? [] : changed.problems;
  if (changed.ok) {
    const bytes = await fileAt(s.octokit, s.repo, changed.path, sha).catch((e: unknown) => {
      // a symlink, a submodule or a directory: the Action places only a regular file (action/src/candidate.ts)
      if (e instanceof NotARegularFile) return e;
      throw e;
    });
    problems =
      bytes instanceof TooLargeToRead
        ? [tooLarge(changed.path, bytes.size, s.cfg.config.max_file_bytes)]
        : bytes instanceof NotARegularFile
          ? [`\`${changed.path}\` is not a regular file at ${sha.slice(0, 7)} (GitHub says it is ${code(bytes.kind)}); an experiment must edit it as a plain text file.`]
          : bytes
            ? validateCandidateFile({ path: changed.path, bytes }, s.cfg.config.max_file_bytes)
            : [`\`${changed.path}\` could not be read at ${sha}.`];
  }
  const who = await authorRefusal(before, pr.user, async () => (await s.octokit.rest.pulls.get({ ...s.repo, pull_number: pr.number })).data.user?.id);
  if (who) problems = [...problems, who];
  // a commit already paid for runs again at the swarm's cost (app/heads.ts): no free tier asked for
  const young = who || !pr.user || paidHeads(before).has(`${pr.number}@${sha}`) ? null : await freeTierRefusal(s, before, pr.user, experimentCost(s.cfg.config.budget_seconds));
  if (young) problems = [...problems, young];

  const view = await handleOverdue(s, before);
  // A new push supersedes the old SHA's queued or running job: its late result will be ignored.
  const supersede = (v: LedgerView): NewEntry[] => {
    // (a replay of a verify run settles that run's credit, whatever becomes of the commit: it runs on)
    const closes: NewEntry[] = v.open.filter((j) => j.pr === pr.number && j.sha !== sha && j.role !== 'baseline' && !v.longRuns.has(j.job_id) && !sideReplayEntry(v, j)).map((j) => closeJob(j, `${SUPERSEDED}${sha}`));
    const waiting = v.queue.get(pr.number);
    if (waiting && waiting.sha !== sha) closes.push({ type: 'experiment_dequeued', data: { pr: pr.number, sha: waiting.sha, reason: `${SUPERSEDED}${sha}` } });
    return closes;
  };
  const stale = supersede(view);
  const on = (entries: LedgerEntry[]) => (entries.length === view.entries.length ? view : viewOf(entries));
  /** The old commits' check runs say they were superseded (else they would show "Running" for good), and their runs stop. */
  const closeStaleChecks = async () => {
    const checks = new Set<number>();
    for (const e of stale) {
      if (e.type === 'result_recorded') checks.add(jobRefs((e.data as { job_id: string }).job_id).check ?? 0);
      else checks.add(view.queue.get(pr.number)?.check ?? 0);
    }
    checks.delete(0);
    for (const id of checks) await updateCheck(s.octokit, s.repo, id, { conclusion: 'neutral' }, 'Superseded', `A newer push (\`${sha.slice(0, 7)}\`) replaced this commit; that one is the experiment now.`);
    await cancelRunsOf(s, closedJobs(stale));
  };

  if (problems.length) {
    let skipped = false;
    await appendBuilt(s, view.entries, (entries) => {
      const v = on(entries);
      skipped = seenHeads(v).has(`${pr.number}@${sha}`);
      return skipped ? [] : [...supersede(v), { type: 'experiment_rejected', data: { pr: pr.number, sha, problems } }];
    });
    if (skipped) return;
    await closeStaleChecks();
    await createCheck(s.octokit, s.repo, sha, { conclusion: 'failure' }, 'Not an experiment', problems.join('\n'));
    await writeSticky(s.octokit, s.repo, pr.number, invalidComment(problems, s.cfg.notice), { fresh });
    await setState(s.octokit, s.repo, pr.number, pr.labels, 'invalid'); // last (see app/reconcile.ts)
    return;
  }

  // PRs whose branch GitHub is updating hold a slot each (app/outdated.ts), this one's for itself
  const updating = updatesPending(view, s.now().getTime());
  updating.delete(pr.number);
  const inFlight = view.open.length - stale.filter((e) => e.type === 'result_recorded').length + updating.size;
  const balance = view.state.balances().get(author)?.balance ?? 0;
  // a commit is paid for once (app/heads.ts): one run again (reopened, or the App lost track of it) is the swarm's
  // the update of an outdated commit (app/outdated.ts) keeps its place in the queue and its payment
  const carried = await carriedPlace(s, view, pr.number, pr.head.sha === ev.pull_request.head.sha ? { action: ev.action, head: sha, before: ev.before ?? null, sender: ev.sender ?? null } : null);
  const paid = paidHeads(view).has(`${pr.number}@${sha}`) || !!carried?.paid;
  const updatedLine = carried ? [`An editable file had changed on \`${s.defaultBranch}\` since this branch was made, so the App merged \`${s.defaultBranch}\` into it ("Update branch"): \`${sha.slice(0, 7)}\` is the experiment now, in the outdated commit's place in the queue.`] : [];
  // free-tier runs are counted per GitHub account (a rename gave the day's runs again under the new login)
  const authorId = pr.user?.id;
  const payOn = (v: LedgerView) => payment(v.state.balances().get(author)?.balance ?? 0, experimentCost(s.cfg.config.budget_seconds), v.state.freeRunsLeft(author, s.cfg.config.free_runs_per_day, s.now(), authorId));
  const pay = paid ? null : payOn(view);
  const budget = s.cfg.config.budget_seconds;
  /** This process lost the race to another one (or a redelivery found it done): its check run says where the experiment is. */
  const duplicate = (check: number) => updateCheck(s.octokit, s.repo, check, { conclusion: 'neutral' }, 'Duplicate', 'This push was handled twice at once; the other `val_bpb` check run of this commit carries the experiment.');
  const held = await dispatchRefusal(s);
  if (inFlight < s.cfg.config.max_in_flight && (pay || paid) && !held) {
    const found = await outdatedAgainst(s, sha, await defaultHead(s));
    if (found) {
      const since = carried?.since ?? s.now().toISOString();
      await setAsideOutdated(s, view, { pr: pr.number, sha, since, check: null, comment: null }, found, (v) => (seenHeads(v).has(`${pr.number}@${sha}`) || running(v) ? null : supersede(v)));
      return closeStaleChecks();
    }
    // Every PR that could run was dispatched on an earlier event, so this one jumps no one.
    // While it runs the check run says so; the PR carries no experiment:* label. A PR just
    // opened has no sticky comment yet (its result writes the first); after a push the old
    // outcome's comment is brought up to date.
    const check = await createCheck(s.octokit, s.repo, sha, { status: 'in_progress' }, 'Running', [`Dispatched to a runner (budget ${budget} s).`, s.cfg.notice].filter(Boolean).join('\n\n'));
    const comment = fresh
      ? null
      : await writeSticky(s.octokit, s.repo, pr.number, stateComment('Experiment running', [...updatedLine, `\`${sha.slice(0, 7)}\` was dispatched to a runner with a ${budget} s budget; the \`val_bpb\` check will carry the score.`], s.cfg.notice));
    // The payment holds on the chain it lands on, or the commit waits: two PRs of one author
    // handled at once (by one process or two) each saw the same balance or free-tier run, and
    // spent it twice (app/policy/payment.ts allows no overdraft).
    const short: { on: LedgerView | null } = { on: null };
    const ids = await dispatchJobs(
      s,
      [{ role: 'candidate', pr: pr.number, sha, author: paid ? null : author, hardware_class: null, runner_label: ANY_RUNNER, attempt: 1, verifies: null, check, comment, newComment: fresh, title: pr.title, pr_author: author, ...(authorId !== undefined ? { author_id: authorId } : {}), pay }],
      (entries) => {
        const v = on(entries);
        const now = paid ? null : payOn(v);
        short.on = !paid && (now?.amount !== pay?.amount || now?.reason !== pay?.reason) ? v : null;
        return short.on ? null : supersede(v);
      },
    );
    if (short.on) {
      const left = short.on.state.balances().get(author)?.balance ?? 0;
      return queue(payOn(short.on) ? `@${author}'s payment changed while this push was handled (another of their experiments was charged)` : unpaid(author, left, budget), check);
    }
    if (!ids?.length) return duplicate(check);
    await closeStaleChecks();
    await setState(s.octokit, s.repo, pr.number, pr.labels, null);
    return;
  }
  return queue(held ?? (pay || paid ? `all ${s.cfg.config.max_in_flight} runner slots are busy` : unpaid(author, balance, budget)));

  /** The commit waits in the queue, saying why (`made`: the check run already created for a dispatch that did not happen). */
  async function queue(why: string, made?: number): Promise<void> {
    const text = [`Waiting: ${why}.`, s.cfg.notice].filter(Boolean).join('\n\n');
    const check = made !== undefined ? (await updateCheck(s.octokit, s.repo, made, { status: 'queued' }, 'Queued', text), made) : await createCheck(s.octokit, s.repo, sha, { status: 'queued' }, 'Queued', text);
    const comment = await writeSticky(s.octokit, s.repo, pr.number, stateComment('Experiment queued', [...updatedLine, `\`${sha.slice(0, 7)}\` is valid and queued: ${why}. It runs as soon as that changes.`], s.cfg.notice), { fresh });
    let skipped = false;
    await appendBuilt(s, view.entries, (entries) => {
      const v = on(entries);
      skipped = running(v);
      return skipped ? [] : [...supersede(v), { type: 'experiment_queued', data: { pr: pr.number, sha, author, title: pr.title, check, comment, waiting_for: null, ...(authorId !== undefined ? { author_id: authorId } : {}), ...(carried ? { since: carried.since } : {}), ...(carried?.paid ? { prepaid: true as const } : {}) } }];
    });
    if (skipped) return duplicate(check);
    await closeStaleChecks();
    await setState(s.octokit, s.repo, pr.number, pr.labels, 'queued');
  }
}

/** pull_request closed: its open jobs are closed and it leaves the queue, so the slots go to others. */
export async function onPullRequestClosed(s: Session, ev: PullRequestEvent): Promise<void> {
  const view = viewOf(await s.ledger.read());
  const n = ev.pull_request.number;
  // a long run of the PR's head was paid for by its requester: it runs on; so does a replay of a
  // verify run (no job of the PR: it settles that run's credit). Closed, the replay was due again,
  // sent again and closed by the reconcile pass, again and again (the fault run, seed 1)
  const closesOn = (v: LedgerView): NewEntry[] => {
    const closes: NewEntry[] = v.open.filter((j) => j.pr === n && !v.longRuns.has(j.job_id) && !sideReplayEntry(v, j)).map((j) => closeJob(j, closedReason(n)));
    const waiting = v.queue.get(n);
    if (waiting) closes.push({ type: 'experiment_dequeued', data: { pr: n, sha: waiting.sha, reason: closedReason(n) } });
    // a branch being updated for the App holds a runner slot (app/outdated.ts): closed, it gives it back
    else if (updatesPending(v, s.now().getTime()).has(n)) closes.push({ type: 'experiment_dequeued', data: { pr: n, sha: ev.pull_request.head.sha, reason: closedReason(n) } });
    // a claim held for a replay ends too: its payment is used and its first run may be paid
    for (const h of heldClaimsClosed(v, n)) if (!closes.some((c) => c.type === 'experiment_dequeued' && (c.data as { sha: string }).sha === h.data.sha)) closes.push(h);
    return closes;
  };
  const closes = closesOn(view);
  if (!closes.length) return;
  await appendBuilt(s, view.entries, (entries) => closesOn(entries.length === view.entries.length ? view : viewOf(entries)));
  // a run training for the closed PR stops: its result would be ignored (app/starts.ts)
  await cancelRunsOf(s, closedJobs(closes));
  await schedule(s, viewOf(await s.ledger.read()));
}

/** The job ids the entries close (their result_recorded entries). */
function closedJobs(entries: NewEntry[]): string[] {
  return entries.filter((e) => e.type === 'result_recorded').map((e) => (e.data as { job_id: string }).job_id);
}

/** Why an author's experiment waits for payment: in debt (reversed credits it had spent: no free tier until repaid), or out of both. */
function unpaid(author: string, balance: number, budget: number): string {
  return balance < 0
    ? `@${author} owes ${-balance} credits (credits already spent were reversed): no run, free tier included, until the balance is back to 0 (an experiment costs ${budget})`
    : `@${author} has ${balance} credits and no free-tier run left today (an experiment costs ${budget})`;
}
