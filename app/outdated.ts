// Outdated PR commits. A run trains the PR head's train.ts, but a squash merge writes the PR's
// changes since its merge base applied to the default branch's head. When the default branch
// changed an editable file since the PR branched (another merge), the two files differ: a run of
// the head would score code no merge writes, and a merge would write code no run scored. Such a
// commit is not run (nor merged): the App asks GitHub to merge the default branch into the PR's
// branch (the "Update branch" button: PUT /pulls/{n}/update-branch, guarded on the head it saw),
// and the new head keeps the old one's place in the queue and its payment (app/handlers/
// pull-request.ts). Where GitHub refuses (both sides changed the same lines; a fork that does not
// allow edits by maintainers), the PR is labelled `experiment:conflict` and its author asked to
// update the branch. Recorded as `experiment_outdated`, which takes the commit off the queue.
import type { EntryDataOf, LedgerEntry, NewEntry } from '../ledger/index.js';
import { createCheck, updateCheck } from './github/checks.js';
import { moveState } from './github/labels.js';
import { refusal } from './github/octokit.js';
import { writeSticky } from './github/sticky-comment.js';
import { closeJob } from './dispatch.js';
import { paidHeads, UPDATE_GRACE_MS } from './heads.js';
import { jobRefs } from './jobs.js';
import { decidedSince, isSideReplay } from './policy/side-replays.js';
import { once, record } from './record.js';
import { viewOf, type Dispatched, type LedgerView } from './ledger-view.js';
import { stateComment } from './messages.js';
import { appendBuilt, type Session } from './session.js';

export interface Outdated {
  /** the editable file the default branch changed since the PR branched */
  path: string;
  /** the default branch's head it was compared with */
  default_sha: string;
}

/** The default branch's head now. */
export async function defaultHead(s: Session): Promise<string> {
  const { data } = await s.octokit.rest.git.getRef({ ...s.repo, ref: `heads/${s.defaultBranch}` });
  return data.object.sha;
}

/**
 * What makes commit `sha` outdated against the default branch at `defaultSha`, or null: the first
 * editable file the default branch changed since their merge base. GitHub's compare of
 * `sha...defaultSha` lists the files `defaultSha` changed since the merge base (up to 300: a longer
 * list counts as changed).
 */
export async function outdatedAgainst(s: Session, sha: string, defaultSha: string): Promise<Outdated | null> {
  // two commits' merge base and changes never change: each pair is asked once per process
  const key = `${s.fullName}:${sha}...${defaultSha}:${s.cfg.config.editable_paths.join(',')}`;
  if (compared.has(key)) return compared.get(key)!;
  const { data } = await s.octokit.rest.repos.compareCommitsWithBasehead({ ...s.repo, basehead: `${sha}...${defaultSha}`, per_page: 1 });
  const files = data.files ?? [];
  const editable = s.cfg.config.editable_paths;
  const hit = files.length >= 300 ? editable[0] : files.find((f) => editable.includes(f.filename) || (f.previous_filename !== undefined && editable.includes(f.previous_filename)))?.filename;
  const out = hit ? { path: hit, default_sha: defaultSha } : null;
  if (compared.size >= 10_000) compared.delete(compared.keys().next().value!);
  compared.set(key, out);
  return out;
}

const compared = new Map<string, Outdated | null>();

/** Forgets the comparisons (tests and the simulator start each world afresh: their commit ids repeat). */
export function clearCompareCache(): void {
  compared.clear();
}

/**
 * A PR run whose result came back on a default branch that changed train.ts since the PR branched
 * (a verify run dispatched after another merge; GitHub pins a dispatched run to the default
 * branch's head when it is created): it measured the PR's file against a baseline of code the file
 * lacks, so it is recorded (its runner's credit and trust as for any result) but judges nothing;
 * the commit is set aside as outdated and its other open runs closed. True when it was.
 */
export async function setAsideRun(s: Session, view: LedgerView, x: { job: Dispatched; runHeadSha: string; news: NewEntry[]; files: Record<string, string> }): Promise<boolean> {
  const { job } = x;
  if (job.pr === null || (job.role !== 'candidate' && job.role !== 'verify') || view.longRuns.has(job.job_id) || isSideReplay(view, job)) return false;
  const found = await outdatedAgainst(s, job.sha, x.runHeadSha);
  if (!found) return false;
  // set aside already (by another of its runs), or decided since this run was sent: the result is recorded, nothing more
  if (decidedSince(view, job.pr, job.sha, job.job_id) || outdatedRecorded(view.entries, job.pr, job.sha)) {
    await record(s, view, job.job_id, x.news, x.files);
    return true;
  }
  const refs = jobRefs(job.job_id);
  const result = once(view, job.job_id, x.news);
  const after = await setAsideOutdated(s, view, { pr: job.pr, sha: job.sha, since: s.now().toISOString(), check: refs.check, comment: refs.comment }, found, (v) => {
    const rec = result(v.entries);
    if (rec === null || decidedSince(v, job.pr!, job.sha, job.job_id)) return null;
    const others = v.open.filter((j) => j.pr === job.pr && j.sha === job.sha && j.job_id !== job.job_id && j.role !== 'baseline' && !v.longRuns.has(j.job_id) && !isSideReplay(v, j));
    return [...rec, ...others.map((j) => closeJob(j, `outdated: \`${found.path}\` changed on ${s.defaultBranch} since PR #${job.pr} branched`))];
  }, x.files);
  // decided or set aside by another process meanwhile: the result is still recorded
  if (!after.state.results.has(job.job_id)) await record(s, after, job.job_id, x.news, x.files);
  return true;
}

/** A PR commit about to run (or merge) that turned out outdated. */
export interface OutdatedCommit {
  pr: number;
  sha: string;
  /** its place in the queue, kept by the updated head */
  since: string;
  /** its val_bpb check run and the PR's sticky comment, where known */
  check: number | null;
  comment: number | null;
}

/**
 * Asks GitHub to update the branch of an outdated commit, then records `experiment_outdated` with
 * the entries `also` builds on the chain it lands on (null: the commit moved on meanwhile, e.g.
 * another process dispatched it, and nothing is recorded), then tells the PR. The update comes
 * first: a 5xx or a timeout throws with nothing recorded, so the commit stays where it was and the
 * next pass asks again. A head that moved meanwhile (a push: GitHub answers 422 to the guard) is
 * recorded as set aside; the new head's event handles the PR.
 */
export async function setAsideOutdated(s: Session, view: LedgerView, c: OutdatedCommit, found: Outdated, also: (v: LedgerView) => NewEntry[] | null, files: Record<string, string> = {}): Promise<LedgerView> {
  let update: 'requested' | 'refused' = 'requested';
  let why = '';
  let moved = false;
  try {
    await s.octokit.rest.pulls.updateBranch({ ...s.repo, pull_number: c.pr, expected_head_sha: c.sha });
  } catch (e) {
    if (!refusal(e)) throw e;
    const { data: now } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: c.pr });
    moved = now.state !== 'open' || now.head.sha !== c.sha;
    update = 'refused';
    why = (e as { response?: { data?: { message?: string } } }).response?.data?.message ?? (e as Error).message;
  }
  const data: EntryDataOf<'experiment_outdated'> = { pr: c.pr, sha: c.sha, default_sha: found.default_sha, path: found.path, update, since: c.since };
  let skipped = false;
  await appendBuilt(s, view.entries, (entries) => {
    const v = entries.length === view.entries.length ? view : viewOf(entries);
    const with_ = also(v);
    skipped = with_ === null || outdatedRecorded(v.entries, c.pr, c.sha);
    return skipped ? [] : [...with_!, { type: 'experiment_outdated', data }];
  }, files);
  const after = viewOf(await s.ledger.read());
  if (skipped || moved) return after;
  const [title, lines] = outdatedWords(s, c, found, update === 'requested' ? null : why);
  if (c.check !== null) await updateCheck(s.octokit, s.repo, c.check, { conclusion: 'neutral' }, title, lines.join('\n\n'));
  else await createCheck(s.octokit, s.repo, c.sha, { conclusion: 'neutral' }, title, lines.join('\n\n'));
  // an update asked for: the new head's synchronize writes the comment and the label seconds later
  // (saying why: app/handlers/pull-request.ts); the reconcile pass does if it never comes
  if (update === 'requested') return after;
  await writeSticky(s.octokit, s.repo, c.pr, stateComment(title, lines, s.cfg.notice), { knownId: c.comment });
  await moveState(s.octokit, s.repo, c.pr, 'conflict'); // last (see app/reconcile.ts)
  return after;
}

/** The check run's title and the comment's lines for an outdated commit (`refused`: GitHub's answer to the update, or null when it was asked). */
export function outdatedWords(s: { defaultBranch: string }, c: { sha: string }, found: Outdated, refused: string | null): [string, string[]] {
  const what = `\`${found.path}\` changed on \`${s.defaultBranch}\` (now \`${found.default_sha.slice(0, 7)}\`) since \`${c.sha.slice(0, 7)}\` branched from it: a run of this commit would score a file that a merge would not write.`;
  return refused === null
    ? ['Outdated: updating the branch', [what, `The App asked GitHub to merge \`${s.defaultBranch}\` into this branch ("Update branch"): the new commit keeps this one's place in the queue and is tested instead.`]]
    : ['Outdated: update the branch', [what, `GitHub did not update the branch (${refused}). Merge \`${s.defaultBranch}\` into it (or rebase on it) and push; the new commit is tested then.`]];
}

function outdatedRecorded(entries: LedgerEntry[], pr: number, sha: string): boolean {
  let last = false;
  for (const e of entries) {
    const d = e.data as { pr?: number | null; sha?: string };
    if (d.pr !== pr || d.sha !== sha) continue;
    if (e.type === 'experiment_outdated') last = true;
    else if (e.type === 'experiment_queued' || e.type === 'job_dispatched') last = false;
  }
  return last;
}

/** The entries that move a PR from one state to the next, for the two functions below. */
const PR_STEPS = new Set(['experiment_queued', 'job_dispatched', 'experiment_outdated', 'experiment_merged', 'experiment_discarded', 'experiment_rejected', 'experiment_dequeued', 'merge_intended']);

function lastSteps(view: LedgerView): Map<number, LedgerEntry> {
  const last = new Map<number, LedgerEntry>();
  for (const e of view.entries) {
    if (!PR_STEPS.has(e.type)) continue;
    const d = e.data as { pr?: number | null; role?: string; job_id?: string };
    if (d.pr == null) continue;
    if (e.type === 'job_dispatched' && (d.role === 'baseline' || view.longRuns.has(d.job_id!))) continue;
    last.set(d.pr, e);
  }
  return last;
}

/**
 * PRs whose branch GitHub is updating for the App (the PR's last step is an outdated commit with
 * `update: requested`, less than UPDATE_GRACE_MS ago): each holds the runner slot its commit was
 * about to take, so the updated head runs as soon as it arrives, and a free slot does not send the
 * queue's next (equally outdated) commits to be updated one after another.
 */
export function updatesPending(view: LedgerView, now: number): Set<number> {
  const out = new Set<number>();
  for (const [pr, e] of lastSteps(view)) {
    if (e.type === 'experiment_outdated' && (e.data as EntryDataOf<'experiment_outdated'>).update === 'requested' && now - Date.parse(e.time) < UPDATE_GRACE_MS) out.add(pr);
  }
  return out;
}

/** The push a pull_request event reports: its head, the head before it, and who pushed. */
export interface Push {
  action: string;
  head: string;
  before?: string | null;
  sender?: { login: string } | null;
}

/**
 * The queue place and payment a new head of PR `pr` keeps: where the PR's last step was an outdated
 * commit whose branch the App asked GitHub to update, and `push` is that update, its place
 * (`since`) and whether its author had paid for it. Null otherwise.
 *
 * GitHub's update is the push onto the outdated commit (`before`) by the App's own bot (`sender`:
 * the installation token that asked for it). Anything else in its stead (the author's own push,
 * made while the update was pending, or a merge commit they made themselves with the same
 * parents and other code) is a new experiment: paid for, at the back of the queue. (Before, any
 * next head kept the outdated commit's place and payment: an author whose paid commit had run once
 * got a different experiment run at the swarm's cost.) Where the App cannot tell (a head found by
 * the reconcile pass, whose webhook never came, or its own login unknown), the push is not carried.
 */
export async function carriedPlace(s: Pick<Session, 'botLogin'>, view: LedgerView, pr: number, push: Push | null): Promise<{ since: string; paid: boolean } | null> {
  const last = lastSteps(view).get(pr);
  if (last?.type !== 'experiment_outdated' || !push) return null;
  const d = last.data as EntryDataOf<'experiment_outdated'>;
  if (d.update !== 'requested' || d.sha === push.head) return null;
  if (push.action !== 'synchronize' || push.before !== d.sha || !push.sender) return null;
  const bot = await s.botLogin();
  if (!bot || push.sender.login.toLowerCase() !== bot.toLowerCase()) return null;
  return { since: d.since, paid: paidHeads(view).has(`${pr}@${d.sha}`) };
}
