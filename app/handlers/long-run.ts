// issues opened / labeled `long-run:requested`: "Draw on the swarm". Parse the form, resolve the
// target, charge the requester's balance and dispatch one long run, recorded in one ledger
// commit; or say on the issue why not. Its result comes back through workflow_run like any
// job's, and is recorded without touching merges (recordLongRun, below).
import { computeBalances, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { authorRefusal } from '../author-account.js';
import { dispatchRefusal } from '../containment-gate.js';
import { ANY_RUNNER, dispatchJobs } from '../dispatch.js';
import { status } from '../github/octokit.js';
import { writeSticky } from '../github/sticky-comment.js';
import { viewOf, type Dispatched, type LedgerView } from '../ledger-view.js';
import { scoreSummary, stateComment } from '../messages.js';
import type { ResultCheck } from '../policy/result-check.js';
import { record } from '../record.js';
import { LONG_RUN_LABELS, longRunCost, longRunIssue, longRunReason, longRunRefusal, parseLongRunForm, type LongRunTarget } from '../policy/long-run.js';
import { handleOverdue, schedule } from '../scheduler.js';
import type { Session } from '../session.js';

export interface IssueEvent {
  action: string;
  label?: { name: string };
  issue: { number: number; body: string | null; state: string; user: { login: string; id?: number } | null; labels?: ({ name: string } | string)[]; pull_request?: unknown };
}

const labelNames = (ls: IssueEvent['issue']['labels']) => (ls ?? []).map((l) => (typeof l === 'string' ? l : l.name));

/** The job already dispatched for `issue`, if the ledger records one. */
function servedBy(entries: LedgerEntry[], issue: number): string | null {
  for (const e of entries) {
    if (e.type !== 'credit_spent') continue;
    const d = (e as LedgerEntry<'credit_spent'>).data;
    if (longRunIssue(d.reason) === issue) return d.job_id;
  }
  return null;
}

export async function onLongRunIssue(s: Session, ev: IssueEvent): Promise<void> {
  const issue = ev.issue;
  if (issue.pull_request || issue.state !== 'open') return;
  if (ev.action === 'labeled' ? ev.label?.name !== LONG_RUN_LABELS.requested : !labelNames(issue.labels).includes(LONG_RUN_LABELS.requested)) return;
  const login = issue.user?.login ?? 'ghost';
  let view = viewOf(await s.ledger.read());
  // Redelivered, or both `opened` and `labeled` came for one form: one run per issue.
  if (servedBy(view.entries, issue.number)) return;

  const refuse = async (why: string) => {
    // one comment per issue, edited in place: `opened` and `labeled` both arrive for a form
    await writeSticky(s.octokit, s.repo, issue.number, stateComment('Long run refused', [`Not scheduled: ${why}`, '', `Edit the issue and remove and re-add the \`${LONG_RUN_LABELS.requested}\` label to ask again.`], null));
    await relabel(s, issue, LONG_RUN_LABELS.refused);
  };

  const form = parseLongRunForm(issue.body);
  if (!form.ok) return refuse(form.problem);
  const req = form.request;
  const target = await resolveTarget(s, req.target);
  if (typeof target === 'string') return refuse(target);
  // classes the ledger knows: of registered runners, and of baselines (runners of a fleet registered by an admin)
  const known = [...new Set([...view.registry.values(), ...view.baselines.values()].map((r) => r.hardware_class))].sort();
  if (req.hardware_class && !known.includes(req.hardware_class)) {
    return refuse(`**Hardware class**: no runner of the swarm has class \`${req.hardware_class}\`${known.length ? ` (classes: ${known.map((k) => `\`${k}\``).join(', ')})` : ''}; leave it empty for any class.`);
  }
  view = await handleOverdue(s, view);
  const cost = longRunCost(req.budget_seconds);
  const balance = view.state.balances().get(login)?.balance ?? 0;
  // the issue's login pays only for the account that holds the ledger's record under it (a login
  // taken over from a renamed owner spent her credits)
  const who = await authorRefusal(view, issue.user, async () => (issue.user ? (await s.octokit.rest.users.getByUsername({ username: issue.user.login })).data.id : undefined), 'issue');
  const no = who ?? (await dispatchRefusal(s)) ?? longRunRefusal(login, balance, cost, req.max_credits);
  if (no) return refuse(no);

  let short: string | null = null;
  const ids = await dispatchJobs(
    s,
    [
      {
        role: target.pr === null ? 'baseline' : 'candidate',
        pr: target.pr,
        sha: target.sha,
        author: login,
        hardware_class: req.hardware_class,
        runner_label: req.hardware_class ?? ANY_RUNNER,
        attempt: 1,
        verifies: null,
        check: null,
        comment: null,
        pay: { amount: cost, reason: longRunReason(issue.number) },
        budget_seconds: req.budget_seconds,
      },
    ],
    // built on the chain really appended to: another App process may have served the issue, or
    // another spend lowered the balance, meanwhile (the ledger audit allows no overdraft)
    (entries) => {
      if (servedBy(entries, issue.number)) return null;
      const now = entries.length === view.entries.length ? balance : (computeBalances(entries).get(login)?.balance ?? 0);
      if (now < cost) {
        short = longRunRefusal(login, now, cost, req.max_credits);
        return null;
      }
      return [];
    },
    {},
    view.entries,
  );
  if (short) return refuse(short);
  if (!ids) return;
  await writeSticky(
    s.octokit,
    s.repo,
    issue.number,
    stateComment(
      'Long run scheduled',
      [
        `\`${target.sha.slice(0, 7)}\` (${target.pr === null ? `\`${s.defaultBranch}\`` : `head of #${target.pr}`}) was dispatched for ${req.budget_seconds} s of training on ${req.hardware_class ? `a \`${req.hardware_class}\` runner` : 'any runner of the swarm'}.`,
        `@${login} paid ${cost} credits (balance ${balance} → ${balance - cost}); job \`${ids[0]}\`. The result will be posted here; it is recorded in the ledger and never merges anything.`,
      ],
      null,
    ),
  );
  await relabel(s, issue, LONG_RUN_LABELS.scheduled);
}

/** The commit to run and its PR, or why the target cannot be run. */
async function resolveTarget(s: Session, t: LongRunTarget): Promise<{ sha: string; pr: number | null } | string> {
  if (t.kind === 'pr') {
    try {
      const { data } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: t.pr });
      return { sha: data.head.sha, pr: t.pr };
    } catch (e) {
      if (status(e) === 404) return `**What to run**: #${t.pr} is not a pull request of ${s.fullName}.`;
      throw e;
    }
  }
  try {
    // `behind` or `identical`: the commit is an ancestor of the default branch, and then the merge base is the commit itself (full SHA).
    const { data } = await s.octokit.rest.repos.compareCommitsWithBasehead({ ...s.repo, basehead: `${s.defaultBranch}...${t.sha}`, per_page: 1 });
    if (data.status === 'behind' || data.status === 'identical') return { sha: data.merge_base_commit.sha, pr: null };
    return `**What to run**: \`${t.sha}\` is not a commit of \`${s.defaultBranch}\` (it is ${data.status} of it); give a commit of \`${s.defaultBranch}\` or a PR number.`;
  } catch (e) {
    if (status(e) === 404) return `**What to run**: no commit \`${t.sha}\` in ${s.fullName}.`;
    throw e;
  }
}

/** Sets the issue's long-run:* state label, keeping its other labels. */
async function relabel(s: Session, issue: IssueEvent['issue'], to: string): Promise<void> {
  const keep = labelNames(issue.labels).filter((n) => n !== LONG_RUN_LABELS.scheduled && n !== LONG_RUN_LABELS.refused);
  await s.octokit.rest.issues.setLabels({ ...s.repo, issue_number: issue.number, labels: [...keep, to] });
}

/**
 * A long run's result is recorded (and its runner credited) like any other, but it claims
 * nothing: no baseline, no verification, no merge. Its requester reads it on their issue.
 */
export async function recordLongRun(
  s: Session,
  view: LedgerView,
  job: Dispatched,
  issue: number,
  x: { run: { html_url: string }; runnerName: string | null; runnerOwner: string | null; checked: ResultCheck; news: NewEntry[]; files: Record<string, string> },
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
