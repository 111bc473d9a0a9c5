// Merging a verified improvement: intent before effect. The verify run's result and a
// merge_intended entry are recorded first; then the squash merge with the `sha` guard; then
// experiment_merged (with the credits it makes due and the baseline runs of the new head). If the
// last record is lost (a 5xx, a crash), a redelivered result finds its result recorded and does
// nothing twice, and the tick's reconcile pass (settlePendingMerges) asks GitHub what became of
// the PR and records it: merged, merged now, or abandoned.
import { appendEntries, type EntryDataOf, type LedgerEntry, type NewEntry } from '../ledger/index.js';
import { sha256 } from '../trainer/harness-version.js';
import { baselineJobs, reusedSamples } from './baselines.js';
import { dispatchJobs } from './dispatch.js';
import { updateCheck } from './github/checks.js';
import { harnessAt } from './github/hashes.js';
import { setState, type ExperimentState } from './github/labels.js';
import { refusal, status } from './github/octokit.js';
import { writeSticky } from './github/sticky-comment.js';
import { jobRefs } from './jobs.js';
import { viewOf, type Dispatched, type LedgerView } from './ledger-view.js';
import { scoreSummary, stateComment } from './messages.js';
import { code } from './policy/shown.js';
import type { Baseline } from './policy/baseline.js';
import type { Outcome } from './policy/outcome.js';
import type { checkResult } from './policy/result-check.js';
import { record, withGrants } from './record.js';
import { outdatedAgainst, setAsideOutdated } from './outdated.js';
import { validateChangedFiles } from './policy/validate.js';
import { schedule } from './scheduler.js';
import { appendBuilt, type Session } from './session.js';

type Intent = EntryDataOf<'merge_intended'>;
type Pull = { number: number; title: string; body?: string | null; state?: string; merged?: boolean | null; merge_commit_sha?: string | null; head: { sha: string }; base?: { ref: string }; user: { login: string } | null; labels: { name: string }[] };

/** What scoring a verify run hands the merge. */
export interface MergeInput {
  s: Session;
  job: Dispatched;
  run: { head_sha: string; html_url: string };
  runnerName: string | null;
  runnerOwner: string | null;
  baseline: Baseline | null;
  checked: ReturnType<typeof checkResult>;
  news: NewEntry[];
  files: Record<string, string>;
}

const key = (d: { pr: number; sha: string }) => `${d.pr}@${d.sha}`;

/**
 * merge_intended entries not yet settled by experiment_merged or merge_abandoned, with when they
 * were recorded. A commit merged already is never pending again: an intent recorded after its merge
 * (a second process that judged the claim on an older view) is moot, since GitHub merges a PR once.
 */
export function pendingMerges(entries: LedgerEntry[]): (Intent & { time: string })[] {
  const open = new Map<string, Intent & { time: string }>();
  const merged = new Set<string>();
  for (const e of entries) {
    if (e.type === 'merge_intended' && !merged.has(key(e.data as Intent))) open.set(key(e.data as Intent), { ...(e.data as Intent), time: e.time });
    else if (e.type === 'experiment_merged' || e.type === 'merge_abandoned') open.delete(key(e.data as { pr: number; sha: string }));
    if (e.type === 'experiment_merged') merged.add(key(e.data as { pr: number; sha: string }));
  }
  return [...open.values()];
}

export async function merge(x: MergeInput, view: LedgerView, out: Extract<Outcome, { kind: 'merge' }>): Promise<void> {
  const { s, job, run } = x;
  const r = x.checked.result!;
  const refs = jobRefs(job.job_id);
  const claimId = out.claim.job_id || job.job_id;
  const news = [...x.news]; // the verification entries come with the judged result (handlers/judge.ts)
  const claimBpb = out.claim.val_bpb ?? r.val_bpb!;
  const job_ids = out.job_ids ?? (out.claim.job_id ? [claimId, job.job_id] : [claimId]);
  const verifiedBpb = restingBpb(view, job_ids, r.hardware_class, r.val_bpb ?? claimBpb, { job_id: job.job_id, role: job.role, val_bpb: r.val_bpb });
  const pr = job.pr!;
  // Merging needs the PR as it is now: its head (the sha guard's counterpart), title and labels.
  const { data: pull } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: pr });
  const say = async (st: ExperimentState, conclusion: 'success' | 'neutral' | 'action_required', title: string, lines: string[]) => {
    const text = scoreSummary({ result: r, baseline: x.baseline, threshold: out.threshold, runnerName: x.runnerName, runnerOwner: x.runnerOwner, runUrl: run.html_url, verdict: lines.join(' ') });
    if (refs.check !== null) await updateCheck(s.octokit, s.repo, refs.check, conclusion === 'action_required' ? { status: 'queued' } : { conclusion }, title, text, run.html_url);
    await writeSticky(s.octokit, s.repo, pr, stateComment(title, lines, s.cfg.notice), { knownId: refs.comment, fresh: refs.newComment });
    await setState(s.octokit, s.repo, pr, pull.labels, st); // last (see app/reconcile.ts)
  };
  if (pull.head.sha !== job.sha || pull.state !== 'open') {
    await record(s, view, job.job_id, news, x.files);
    return; // a newer push has its own job; a closed PR merges nothing (a replay of a verify run runs on after the close and may settle its claim)
  }
  const elsewhere = intoOtherBranch(s, pull);
  if (elsewhere) {
    // scored against the default branch's baseline, it would be merged into another branch: no merge happened there
    news.push({ type: 'experiment_discarded', data: { pr, sha: job.sha, reason: elsewhere, hardware_class: r.hardware_class, val_bpb: verifiedBpb } });
    if (!(await record(s, view, job.job_id, news, x.files))) return;
    await say('discarded', 'neutral', 'Verified, but not merged', [`Verified, but ${elsewhere}.`, `Change the PR's base branch to \`${s.defaultBranch}\` and push to try again.`]);
    return schedule(s, viewOf(await s.ledger.read()));
  }
  const { data: head } = await s.octokit.rest.git.getRef({ ...s.repo, ref: `heads/${s.defaultBranch}` });
  if (head.object.sha !== run.head_sha) {
    // "Not rocket science": main moved since the baseline this was judged against; test again on the new main.
    news.push({ type: 'experiment_queued', data: { pr, sha: job.sha, author: pull.user?.login ?? job.pr_author ?? 'ghost', title: pull.title, check: refs.check, comment: refs.comment, waiting_for: null } });
    const after = await record(s, view, job.job_id, news, x.files);
    if (!after) return;
    await say('queued', 'action_required', 'Verified, but the default branch moved', [
      `Verified against \`${run.head_sha.slice(0, 7)}\`, but \`${s.defaultBranch}\` is now \`${head.object.sha.slice(0, 7)}\`; re-queued to run against the new head.`,
    ]);
    return schedule(s, after);
  }
  // what the squash merge would bring into the default branch, from the commits themselves
  const beyond = await unvalidatedChanges(s, run.head_sha, job.sha);
  if (beyond) {
    news.push({ type: 'experiment_discarded', data: { pr, sha: job.sha, reason: beyond, hardware_class: r.hardware_class, val_bpb: verifiedBpb } });
    if (!(await record(s, view, job.job_id, news, x.files))) return;
    await say('discarded', 'neutral', 'Verified, but not merged', [`Verified, but ${beyond}.`, `Push a commit that changes only ${s.cfg.config.editable_paths.map((p) => code(p)).join(', ')} against \`${s.defaultBranch}\` to try again.`]);
    return schedule(s, viewOf(await s.ledger.read()));
  }
  const evidence = `val_bpb ${r.val_bpb!.toFixed(4)} (claim ${claimBpb.toFixed(4)}) on ${r.hardware_class}; baseline ${x.baseline!.mean.toFixed(4)} ± ${x.baseline!.sigma.toFixed(4)} (n=${x.baseline!.n}); threshold ${out.threshold.toFixed(4)}`;
  if (!s.cfg.mayAct) {
    if (!(await record(s, view, job.job_id, news, x.files))) return;
    await say('improvement', 'success', 'Verified improvement (not merged)', [`Verified improvement: ${evidence}.`, s.cfg.notice ?? '']);
    return;
  }
  const intent: Intent = { pr, sha: job.sha, base_sha: run.head_sha, hardware_class: r.hardware_class, val_bpb: verifiedBpb, baseline_mean: x.baseline!.mean, job_ids };
  // Intent first, in the same commit as the verify result: a redelivery stops at "already recorded".
  const after = await record(s, view, job.job_id, [...news, { type: 'merge_intended', data: intent }], x.files);
  if (!after) return;
  await mergeNow(s, after, intent, pull, { evidence, runUrl: run.html_url, summary: (verdict) => scoreSummary({ result: r, baseline: x.baseline, threshold: out.threshold, runnerName: x.runnerName, runnerOwner: x.runnerOwner, runUrl: run.html_url, verdict }) }, true);
}

/**
 * The val_bpb a merge records: what the runs it rests on (`jobIds`) measured on class `cls`. The
 * claim's score when the claim (the candidate run) is one of them (as before); else, the claim
 * outvoted and the merge resting on other owners' runs, their mean: never the outvoted claim's
 * figure (a forged 0.50 the agreeing runs measured as ~2.00). `now`: the run being recorded with
 * the intent, not in the view yet. ledger/audit.ts mergeScoreProblem checks the same on the ledger.
 */
function restingBpb(view: LedgerView, jobIds: string[], cls: string, fallback: number, now?: { job_id: string; role: string; val_bpb: number | null }): number {
  const run = (j: string) => {
    if (j === now?.job_id) return { role: now.role, bpb: now.val_bpb };
    const d = view.state.results.get(j)?.data;
    return { role: d?.role, bpb: d?.validated && d.result?.status === 'ok' && d.result.hardware_class === cls ? (d.result.val_bpb ?? null) : null };
  };
  const runs = jobIds.map(run);
  const claim = runs.find((x) => x.role === 'candidate' && x.bpb !== null);
  if (claim) return claim.bpb!;
  const scores = runs.map((x) => x.bpb).filter((v): v is number => v !== null);
  return scores.length ? scores.reduce((a, v) => a + v, 0) / scores.length : fallback;
}

interface Words {
  evidence: string;
  runUrl: string | null;
  summary(verdict: string): string;
}

/**
 * Why PR `pull` cannot be merged for the swarm because its base is not the default branch, or null.
 * A PR may target any branch of the repository: its runs are scored against the default branch's
 * baseline, and GitHub merges it into its base. (Before, such a PR was verified and merged into the
 * other branch, recorded as merged: a merge into the default branch that never happened.)
 */
function intoOtherBranch(s: Session, pull: Pull): string | null {
  const base = pull.base?.ref;
  return base === undefined || base === s.defaultBranch ? null : `PR #${pull.number} targets ${code(base)}, not the default branch \`${s.defaultBranch}\`; only a PR into \`${s.defaultBranch}\` is merged`;
}

/**
 * Why merging `sha` onto the default branch's `baseSha` would bring in more than an experiment may
 * change, or null. A squash merge applies what `sha` changed since its merge base with the default
 * branch: GitHub's compare `baseSha...sha` lists exactly that (up to 300 files). The PR's file list
 * was checked when its push came in, but against the PR's base at the time (another branch, edited
 * to the default branch since: pull_request.edited is not handled) and as GitHub listed it then;
 * what is merged is what the commits say.
 */
export async function unvalidatedChanges(s: Session, baseSha: string, sha: string): Promise<string | null> {
  const { data } = await s.octokit.rest.repos.compareCommitsWithBasehead({ ...s.repo, basehead: `${baseSha}...${sha}`, per_page: 1 });
  const files = (data.files ?? []).map((f) => ({ filename: f.filename, status: f.status, ...(f.previous_filename !== undefined ? { previous_filename: f.previous_filename } : {}) }));
  const checked = files.length >= 300 ? null : validateChangedFiles(files, s.cfg.config.editable_paths);
  return checked?.ok ? null : `merging \`${sha.slice(0, 7)}\` into \`${s.defaultBranch}\` would change more than an experiment may: ${checked ? checked.problems.join(' ') : `${files.length} files or more`}`;
}

/**
 * The PR's title as the squash commit's title on the default branch, with nothing in it GitHub acts
 * on: a closing keyword before `#3`, `owner/repo#4` or an issue's URL in a commit on the default
 * branch closes that issue, and `@login` mentions. The author writes the title; the App writes the
 * commit: `#`, `@` and `://` are given their full-width forms, and the title is one line.
 */
export function inertTitle(title: string): string {
  const line = title.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  const inert = line.replace(/#/g, '\uff03').replace(/@/g, '\uff20').replace(/:\/\//g, '\uff1a//');
  return (inert.length > 200 ? `${inert.slice(0, 199)}…` : inert) || 'Experiment';
}

/**
 * The PR's description with its closing keywords made inert: GitHub closes every issue a merged
 * PR's description names after `closes`, `fixes` or `resolves` (`#3`, `owner/repo#4`, an issue's
 * URL), so an experiment's author could close any issue of the repository through the App's
 * merge. The reference keeps its words, its `#` and `://` in full-width forms.
 */
export function inertBody(body: string): string {
  return body.replace(/\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(\s*:?\s+)((?:[\w.-]+\/[\w.-]+)?#\d+|https?:\/\/\S+?\/issues\/\d+)/gi, (_m, word: string, gap: string, ref: string) => `${word}${gap}${ref.replace('#', '\uff03').replace('://', '\uff1a//')}`);
}

/** The squash merge of a recorded intent, guarded on its commit; then its record. `compared`: its changes were checked just now (unvalidatedChanges). */
async function mergeNow(s: Session, view: LedgerView, intent: Intent, pull: Pull, w: Words, compared = false): Promise<void> {
  const ids = intent.job_ids;
  // its base changed since the intent (the PR was edited): no merge
  const elsewhere = intoOtherBranch(s, pull);
  if (elsewhere) return abandon(s, view, intent, pull, elsewhere, null, null, w);
  // more than the editable paths would be merged (see unvalidatedChanges): no merge, and the commit is discarded
  const beyond = compared ? null : await unvalidatedChanges(s, intent.base_sha, intent.sha);
  if (beyond) {
    return abandon(s, view, intent, pull, beyond, null, null, w, [{ type: 'experiment_discarded', data: { pr: intent.pr, sha: intent.sha, reason: beyond, hardware_class: intent.hardware_class, val_bpb: intent.val_bpb } }]);
  }
  // the default branch changed train.ts since the PR branched: the merge would not be the scored code (app/outdated.ts)
  const found = await outdatedAgainst(s, intent.sha, intent.base_sha);
  if (found) {
    const refs = jobRefs(ids.at(-1)!);
    const reason = `\`${found.path}\` changed on ${s.defaultBranch} since PR #${intent.pr} branched from it: a merge would combine the two into code no run scored`;
    await setAsideOutdated(s, view, { pr: intent.pr, sha: intent.sha, since: s.now().toISOString(), check: refs.check, comment: refs.comment }, found, (v) =>
      pendingMerges(v.entries).some((p) => key(p) === key(intent)) ? [{ type: 'merge_abandoned', data: { pr: intent.pr, sha: intent.sha, reason } }] : null,
    );
    return;
  }
  // the description's closing keywords would close issues when the App merges: made inert first
  const inert = inertBody(pull.body ?? '');
  if (inert !== (pull.body ?? '')) await s.octokit.rest.pulls.update({ ...s.repo, pull_number: intent.pr, body: inert });
  let mergeSha: string;
  try {
    const { data } = await s.octokit.rest.pulls.merge({
      ...s.repo,
      pull_number: intent.pr,
      sha: intent.sha,
      merge_method: 'squash',
      commit_title: `${inertTitle(pull.title)} (#${intent.pr})`,
      commit_message: `autoresearch: ${w.evidence}.\nJobs: ${ids.join(', ')}${w.runUrl ? `; runs: ${w.runUrl}` : ''}`,
    });
    mergeSha = data.sha;
  } catch (e) {
    // Refused; or merged already (a second process, or this one before a lost answer): GitHub knows which.
    const { data: now } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: intent.pr });
    if (now.merged && now.merge_commit_sha) return settleMerged(s, view, intent, now.merge_commit_sha, now, w);
    // A 5xx, a timeout or a rate limit refused nothing: the intent stays pending and the tick's
    // reconcile pass merges it (settlePendingMerges), instead of telling the author to push again.
    if (!refusal(e)) throw e;
    const why = status(e) === 409 ? 'the branch moved while merging' : `GitHub refused the merge (${(e as Error).message})`;
    return abandon(s, view, intent, now, why, 'conflict', `Verified improvement (${w.evidence}), but ${why}. Update the branch from \`${s.defaultBranch}\` and push; it will be tested again.`, w);
  }
  return settleMerged(s, view, intent, mergeSha, pull, w);
}

/** The harness and train.ts hashes of the merge commit (the intake compares its baseline runs with the same), or null when GitHub does not answer: then nothing is reused. */
async function mergeHashes(s: Session, mergeSha: string): Promise<{ harness_sha256: string; candidate_sha256: string | null } | null> {
  try {
    const h = await harnessAt(s.octokit, s.repo, mergeSha);
    return { harness_sha256: h.sha256, candidate_sha256: h.candidate ? sha256(h.candidate) : null };
  } catch (e) {
    s.log.warn(`the merged claim's runs are not reused for ${mergeSha.slice(0, 7)}'s baseline: ${(e as Error).message}`);
    return null;
  }
}

/** experiment_merged (once per PR commit), the credits it makes due, baselines of the new head; then the PR says so. */
async function settleMerged(s: Session, view: LedgerView, intent: Intent, mergeSha: string, pull: Pull, w: Words): Promise<void> {
  // The claim's runs are runs of the new head's train.ts: they are the first samples of its baseline on their class (app/baselines.ts reusedSamples).
  const atMerge = await mergeHashes(s, mergeSha);
  const merged = (v: LedgerView): NewEntry<'experiment_merged'> => {
    // (an intent recorded before restingBpb carries the claim's score: the ledger's runs say what was measured)
    const data = { pr: intent.pr, sha: intent.sha, merge_sha: mergeSha, hardware_class: intent.hardware_class, val_bpb: restingBpb(v, intent.job_ids, intent.hardware_class, intent.val_bpb), baseline_mean: intent.baseline_mean, job_ids: intent.job_ids };
    const reused = atMerge ? reusedSamples(v, data, atMerge, s.cfg.config) : [];
    return { type: 'experiment_merged', data: reused.length ? { ...data, baseline_job_ids: reused } : data };
  };
  // Baselines of the new head on every class that had one on the old head, in the same commit: the runs still needed besides the reused ones.
  const classes = new Set([intent.hardware_class, ...[...view.baselines.values()].filter((b) => b.sha === intent.base_sha).map((b) => b.hardware_class)]);
  const after = viewOf([...view.entries, ...appendEntries(view.entries, [merged(view)])]);
  const jobs = [...classes].flatMap((cls) => baselineJobs(after, cls, mergeSha, s.cfg.config));
  const ids = await dispatchJobs(s, jobs, (entries) => {
    const v = entries.length === view.entries.length ? view : viewOf(entries);
    // once: while the intent is pending (a commit decided before, a discard run again after its PR
    // was reopened or after a ban, is merged in a new round: its merge was not recorded)
    return pendingMerges(v.entries).some((p) => key(p) === key(intent)) ? withGrants(v, [merged(v)]) : null;
  }, {}, view.entries);
  if (!ids) return;
  await report(s, intent, pull, 'merged', { conclusion: 'success' }, 'Merged', [`Merged as \`${mergeSha.slice(0, 7)}\`: ${w.evidence}.`], w);
}

async function abandon(s: Session, view: LedgerView, intent: Intent, pull: Pull, reason: string, state: ExperimentState | null, line: string | null, w: Words, extra: NewEntry[] = []): Promise<void> {
  let skipped = false;
  await appendBuilt(s, view.entries, (entries) => {
    skipped = !pendingMerges(entries).some((p) => key(p) === key(intent));
    return skipped ? [] : [{ type: 'merge_abandoned', data: { pr: intent.pr, sha: intent.sha, reason } }, ...extra];
  });
  if (skipped || !state || !line) return;
  await report(s, intent, pull, state, { status: 'queued' }, state === 'queued' ? 'Verified, but the default branch moved' : 'Verified, but not merged', [line], w);
}

async function report(s: Session, intent: Intent, pull: Pull, state: ExperimentState, check: Parameters<typeof updateCheck>[3], title: string, lines: string[], w: Words): Promise<void> {
  // the verify job's id (the last) carries the PR's check run and sticky comment
  const refs = jobRefs(intent.job_ids.at(-1)!);
  if (refs.check !== null) await updateCheck(s.octokit, s.repo, refs.check, check, title, w.summary(lines.join(' ')), w.runUrl);
  await writeSticky(s.octokit, s.repo, intent.pr, stateComment(title, lines, s.cfg.notice), { knownId: refs.comment, fresh: refs.newComment });
  await setState(s.octokit, s.repo, intent.pr, pull.labels, state); // last (see app/reconcile.ts)
}

/** How long a handler has to finish its own merge before the reconcile pass takes the intent over. */
export const MERGE_GRACE_MS = 2 * 60_000;

/**
 * Reconcile: each merge intent older than MERGE_GRACE_MS and not settled is settled by what GitHub
 * says: merged (recorded now, credits granted), still mergeable on the same default-branch head
 * (merged now), the default branch moved (abandoned and re-queued), or closed or pushed to (abandoned).
 */
export async function settlePendingMerges(s: Session, view: LedgerView): Promise<LedgerView> {
  const due = pendingMerges(view.entries).filter((p) => s.now().getTime() - Date.parse(p.time) >= MERGE_GRACE_MS);
  for (const intent of due) {
    const { data: pull } = await s.octokit.rest.pulls.get({ ...s.repo, pull_number: intent.pr });
    const w: Words = { evidence: `val_bpb ${intent.val_bpb.toFixed(4)} on ${intent.hardware_class}; baseline ${intent.baseline_mean.toFixed(4)}`, runUrl: null, summary: (verdict) => verdict };
    if (pull.merged && pull.merge_commit_sha) {
      await settleMerged(s, view, intent, pull.merge_commit_sha, pull, w);
    } else if (pull.state === 'open' && pull.head.sha === intent.sha) {
      const { data: head } = await s.octokit.rest.git.getRef({ ...s.repo, ref: `heads/${s.defaultBranch}` });
      if (head.object.sha === intent.base_sha && s.cfg.mayAct) await mergeNow(s, view, intent, pull, w);
      else {
        const refs = jobRefs(intent.job_ids.at(-1)!);
        const requeue: NewEntry = { type: 'experiment_queued', data: { pr: intent.pr, sha: intent.sha, author: pull.user?.login ?? 'ghost', title: pull.title, check: refs.check, comment: refs.comment, waiting_for: null } };
        await abandon(s, view, intent, pull, `${s.defaultBranch} moved before the merge`, 'queued', `Verified against \`${intent.base_sha.slice(0, 7)}\`, but \`${s.defaultBranch}\` is now \`${head.object.sha.slice(0, 7)}\`; re-queued to run against the new head.`, w, [requeue]);
      }
    } else {
      await abandon(s, view, intent, pull, pull.state === 'open' ? `a push to PR #${intent.pr} replaced ${intent.sha.slice(0, 7)}` : `PR #${intent.pr} was closed`, null, null, w);
    }
    view = viewOf(await s.ledger.read());
  }
  return view;
}
