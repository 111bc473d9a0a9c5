// pull_request opened / synchronize / reopened: validate the change, supersede the old SHA's
// job, and run it at once when a slot is free (else queue it).
import { freeRunsLeft, type NewEntry } from '../../ledger/index.js';
import { dispatchRefusal } from '../containment-gate.js';
import { closeJob, dispatchJobs } from '../dispatch.js';
import { createCheck } from '../github/checks.js';
import { fileAt } from '../github/files.js';
import { setState } from '../github/labels.js';
import { writeSticky } from '../github/sticky-comment.js';
import { viewOf } from '../ledger-view.js';
import { invalidComment, stateComment } from '../messages.js';
import { experimentCost, payment } from '../policy/payment.js';
import { validateCandidateFile, validateChangedFiles } from '../policy/validate.js';
import { ANY_RUNNER } from '../dispatch.js';
import { handleOverdue, schedule } from '../scheduler.js';
import type { Session } from '../session.js';

export interface PullRequestEvent {
  action: string;
  number: number;
  pull_request: { number: number; state: string; title: string; head: { sha: string }; user: { login: string } | null; labels: { name: string }[] };
}

export async function onPullRequest(s: Session, ev: PullRequestEvent): Promise<void> {
  const pr = ev.pull_request;
  if (pr.state !== 'open') return;
  const sha = pr.head.sha;
  const author = pr.user?.login ?? 'ghost';
  const fresh = ev.action === 'opened';
  const before = viewOf(await s.ledger.read());
  // Redelivered (or handled by another App process): this commit already runs or waits.
  if (before.queue.get(pr.number)?.sha === sha || before.open.some((j) => j.pr === pr.number && j.sha === sha && j.role !== 'baseline' && !before.longRuns.has(j.job_id))) return;

  const { data: files } = await s.octokit.rest.pulls.listFiles({ ...s.repo, pull_number: pr.number, per_page: 100 });
  const changed = validateChangedFiles(files, s.cfg.config.editable_paths);
  let problems = changed.ok ? [] : changed.problems;
  if (changed.ok) {
    const bytes = await fileAt(s.octokit, s.repo, changed.path, sha);
    problems = bytes ? validateCandidateFile({ path: changed.path, bytes }, s.cfg.config.max_file_bytes) : [`\`${changed.path}\` could not be read at ${sha}.`];
  }

  const view = await handleOverdue(s, before);
  // A new push supersedes the old SHA's queued or running job: its late result will be ignored.
  const stale = view.open.filter((j) => j.pr === pr.number && j.sha !== sha && j.role !== 'baseline' && !view.longRuns.has(j.job_id));
  const closes: NewEntry[] = stale.map((j) => closeJob(j, `superseded by a push of ${sha}`));
  const waiting = view.queue.get(pr.number);
  if (waiting && waiting.sha !== sha) closes.push({ type: 'experiment_dequeued', data: { pr: pr.number, sha: waiting.sha, reason: `superseded by a push of ${sha}` } });

  if (problems.length) {
    if (closes.length) await s.ledger.append(closes);
    await setState(s.octokit, s.repo, pr.number, pr.labels, 'invalid');
    await createCheck(s.octokit, s.repo, sha, { conclusion: 'failure' }, 'Not an experiment', problems.join('\n'));
    await writeSticky(s.octokit, s.repo, pr.number, invalidComment(problems, s.cfg.notice), { fresh });
    return;
  }

  const inFlight = view.open.length - stale.length;
  const balance = view.state.balances().get(author)?.balance ?? 0;
  const pay = payment(balance, experimentCost(s.cfg.config.budget_seconds), freeRunsLeft(view.entries, author, s.cfg.config.free_runs_per_day, s.now()));
  const budget = s.cfg.config.budget_seconds;
  const held = await dispatchRefusal(s);
  if (inFlight < s.cfg.config.max_in_flight && pay && !held) {
    // Every PR that could run was dispatched on an earlier event, so this one jumps no one.
    // While it runs the check run says so; the PR carries no experiment:* label. A PR just
    // opened has no sticky comment yet (its result writes the first); after a push the old
    // outcome's comment is brought up to date.
    const check = await createCheck(s.octokit, s.repo, sha, { status: 'in_progress' }, 'Running', [`Dispatched to a runner (budget ${budget} s).`, s.cfg.notice].filter(Boolean).join('\n\n'));
    const comment = fresh
      ? null
      : await writeSticky(s.octokit, s.repo, pr.number, stateComment('Experiment running', [`\`${sha.slice(0, 7)}\` was dispatched to a runner with a ${budget} s budget; the \`val_bpb\` check will carry the score.`], s.cfg.notice));
    await dispatchJobs(
      s,
      [{ role: 'candidate', pr: pr.number, sha, author, hardware_class: null, runner_label: ANY_RUNNER, attempt: 1, verifies: null, check, comment, newComment: fresh, title: pr.title, pr_author: author, pay }],
      closes,
    );
    await setState(s.octokit, s.repo, pr.number, pr.labels, null);
    return;
  }
  const why = held ?? (pay ? `all ${s.cfg.config.max_in_flight} runner slots are busy` : `@${author} has ${balance} credits and no free-tier run left today (an experiment costs ${budget})`);
  const check = await createCheck(s.octokit, s.repo, sha, { status: 'queued' }, 'Queued', [`Waiting: ${why}.`, s.cfg.notice].filter(Boolean).join('\n\n'));
  const comment = await writeSticky(s.octokit, s.repo, pr.number, stateComment('Experiment queued', [`\`${sha.slice(0, 7)}\` is valid and queued: ${why}. It runs as soon as that changes.`], s.cfg.notice), { fresh });
  await s.ledger.append([...closes, { type: 'experiment_queued', data: { pr: pr.number, sha, author, title: pr.title, check, comment, waiting_for: null } }]);
  await setState(s.octokit, s.repo, pr.number, pr.labels, 'queued');
}

/** pull_request closed: its open jobs are closed and it leaves the queue, so the slots go to others. */
export async function onPullRequestClosed(s: Session, ev: PullRequestEvent): Promise<void> {
  const view = viewOf(await s.ledger.read());
  const n = ev.pull_request.number;
  // a long run of the PR's head was paid for by its requester: it runs on
  const closes: NewEntry[] = view.open.filter((j) => j.pr === n && !view.longRuns.has(j.job_id)).map((j) => closeJob(j, `PR #${n} was closed`));
  const waiting = view.queue.get(n);
  if (waiting) closes.push({ type: 'experiment_dequeued', data: { pr: n, sha: waiting.sha, reason: `PR #${n} was closed` } });
  if (!closes.length) return;
  await s.ledger.append(closes);
  await schedule(s, viewOf(await s.ledger.read()));
}
