// Replays of the runs that decide nothing about a PR by themselves: baseline runs and the
// fresh-seed verify runs of a claim (docs/trust.md 2b). Each one of an owner on probation, and the
// spot check's draw of a trusted owner's, is replayed by another owner of the class before it
// counts (in a baseline, toward trust) or earns; which runs those are is fixed in the ledger
// (ledger/trust.ts `replayDue`). Pure, over the ledger view: which replays to dispatch, where a
// baseline run stands, and what a replay's result establishes.
import type { EntryDataOf, NewEntry, TrustPolicy } from '../../ledger/index.js';
import type { SealKeyPair } from '../../trainer/seal.js';
import type { ReplaySpec } from '../dispatch.js';
import type { Dispatched, LedgerView } from '../ledger-view.js';
import { originalOf, replayStep, sealedDigest, type ReplayInput } from './replays.js';
import { refusal } from './refusals.js';
import { INFEASIBLE_PACE, replayAbandoned, replayInfeasible, replaysRun, SIDE_REPLAY_ATTEMPTS } from './replication.js';

export { SIDE_REPLAY_ATTEMPTS } from './replication.js';

/** Whether a replay job replays a baseline run or a fresh-seed verify run (not a candidate's first run). */
export function isSideReplay(view: LedgerView, job: Pick<Dispatched, 'replay' | 'verifies'>): boolean {
  if (!job.replay || !job.verifies) return false;
  return view.state.trust.replayDue.has(job.verifies);
}

/**
 * Where a baseline run stands: it `counts` (no replay was due, or one reproduced it), is
 * `awaiting` its replay, or is `dropped` (outvoted, its owner banned, not replayable, or no replay
 * could be had in SIDE_REPLAY_ATTEMPTS tries): a dropped run is run again by someone else.
 */
export function runStanding(view: LedgerView, jobId: string): 'counts' | 'awaiting' | 'dropped' {
  const t = view.state.trust;
  const r = view.state.results.get(jobId)?.data;
  if (!r || t.faulted.has(jobId) || (r.runner_owner && t.banned(r.runner_owner))) return 'dropped';
  if (!t.replayDue.has(jobId)) return 'counts';
  const v = t.replays.get(jobId);
  if (v) return v.verdict === 'agreed' ? 'counts' : 'dropped';
  return replayAbandoned(view.state, jobId) || infeasible(view, r) ? 'dropped' : 'awaiting';
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/**
 * Whether no replay on its class can reproduce a run (replication.ts replayInfeasible): a verify
 * run against its claim, a baseline run against the other owners' runs of its commit (the same
 * train.ts: a merge may make the model faster, so never against an older commit's baseline).
 */
function infeasible(view: LedgerView, d: EntryDataOf<'result_recorded'>): boolean {
  if (d.role !== 'baseline') return replayInfeasible(view.state, d);
  const r = d.result;
  if (!r || !d.runner_owner) return false;
  const others = view.baselineRuns.filter((b) => b.hardware_class === r.hardware_class && b.sha === d.sha && b.owner && b.owner.toLowerCase() !== d.runner_owner!.toLowerCase());
  return others.length > 0 && r.tokens_per_second > INFEASIBLE_PACE * median(others.map((b) => b.tokens_per_second));
}

export interface SideReplay {
  /** the replayed run's job id, class, PR (null: a baseline run), commit and budget */
  original: string;
  hardware_class: string;
  pr: number | null;
  sha: string;
  budget_seconds: number;
  pr_author: string | null;
  title: string | null;
  /** owners who must not replay it: its own, those who replayed it already, the PR's author */
  exclude: string[];
  attempt: number;
  replay: ReplaySpec;
  /**
   * whether it may go to the class's label when no eligible owner's runner is idle: not once one
   * owner's runners took two replays of the run sent there and handed both back unscored (no
   * artifact, a harness error, off pace). Any runner of the class takes such a job, those of the
   * owners it excludes too, and a refusal costs its owner nothing: one owner whose idle runners took
   * each of them used up the run's SIDE_REPLAY_ATTEMPTS and got an honest run dropped (never counted,
   * never paid). (After the first such refusal already, an honest small swarm's replays waited behind
   * busy owners: one of the simulator's 30 PRs was left undecided.)
   */
  classLabel: boolean;
}

/**
 * The replays to dispatch now: one for each run that must be replayed, has no verdict and no
 * replay job open, is not outvoted and whose owner is not banned (it never counts anyway), has had
 * fewer than SIDE_REPLAY_ATTEMPTS replay jobs, and whose digest the App can open (`keys`: a digest
 * sealed to a key the App no longer holds cannot be compared, so the run stays unconfirmed). A
 * replay that disagreed brings the next one here too (another owner's, until `outvote_quorum` owners agree), as does a rejected or
 * overdue one.
 */
export function sideReplaysDue(view: LedgerView, keys: SealKeyPair | null): SideReplay[] {
  const t = view.state.trust;
  const out: SideReplay[] = [];
  const open = new Set(view.open.map((j) => j.job_id));
  for (const id of t.replayDue) {
    if (t.replays.has(id) || t.faulted.has(id)) continue;
    const rec = view.state.results.get(id)?.data;
    if (!rec?.result || !rec.runner_owner || t.banned(rec.runner_owner)) continue;
    const ids = t.replayJobs.get(id) ?? [];
    if (replaysRun(view.state, ids) >= SIDE_REPLAY_ATTEMPTS || ids.length >= 2 * SIDE_REPLAY_ATTEMPTS || ids.some((j) => open.has(j))) continue;
    if (!sealedDigest(rec, keys) || infeasible(view, rec)) continue;
    const job = view.jobs.get(id);
    const r = rec.result;
    const author = job?.pr_author ?? null;
    const prior = ids.map((j) => view.state.results.get(j)?.data.runner_owner).filter((o): o is string => !!o);
    // a verify run is not replayed by the owner of the claim it verifies (who wants it to count)
    const claimOwner = rec.role === 'verify' && job?.verifies ? view.state.results.get(job.verifies)?.data.runner_owner : null;
    if (claimOwner) prior.push(claimOwner);
    out.push({
      original: id,
      hardware_class: r.hardware_class,
      pr: rec.pr,
      sha: rec.sha,
      budget_seconds: job?.budget_seconds ?? r.budget_seconds,
      pr_author: author,
      title: job?.title ?? null,
      exclude: [...new Set([rec.runner_owner, ...prior, ...(author ? [author] : [])])],
      // after every job that replayed it, whichever path sent it (a claim's chain numbers its replays
      // of a verify run by the chain: two jobs of one original with one attempt number looked like one
      // job sent twice to the fault run's invariant, seed 3 of `--faults --experiments 300`)
      attempt: Math.max(ids.length, ...ids.map((j) => view.jobs.get(j)?.attempt ?? 0)) + 1,
      replay: { schedule: r.replay!.schedule, seed: r.seed, eval_seed: r.eval_seed! },
      classLabel: !bouncedTwice(view, ids, r.hardware_class),
    });
  }
  return out;
}

/** Whether one owner handed back unscored (app/policy/refusals.ts) two of the replay jobs `ids` sent to the class's label `cls`. */
function bouncedTwice(view: LedgerView, ids: string[], cls: string): boolean {
  const seen = new Set<string>();
  for (const j of ids) {
    const d = view.state.results.get(j)?.data;
    if (view.jobs.get(j)?.runner_label !== cls || !d?.runner_owner || !refusal(d)) continue;
    const who = d.runner_owner.toLowerCase();
    if (seen.has(who)) return true;
    seen.add(who);
  }
  return false;
}

/** What a side replay's result establishes: the entries to record with it, and the baseline run it settles, if any. */
export interface SideJudged {
  news: NewEntry[];
  reason: string;
  /** the original is a baseline run of this class and commit: its baseline may be due now, or its sample must be run again */
  baseline: { hardware_class: string; sha: string } | null;
  /** the original will never count (outvoted, or not replayable) */
  dropped: boolean;
}

/**
 * Judges a replay of a baseline run or of a fresh-seed verify run (ledger/replays.ts, the same rule
 * as a candidate's replays). It decides nothing about the PR: a reproduced run counts and earns, an
 * outvoted one is faulted (pending credits reversed, trust reset, a ban at `ban_after_faults`) and
 * never counts, and a run that is not replayable earns nothing. A rejected, refused or undecided
 * replay records nothing more: sideReplaysDue dispatches the next one.
 */
export function judgeSideReplay(view: LedgerView, x: ReplayInput, o: { keys: SealKeyPair | null; policy: TrustPolicy }): SideJudged {
  const orig = originalOf(view, x.job);
  if (!orig) return { news: [], reason: 'a replay whose original run is not in the ledger', baseline: null, dropped: false };
  const baseline = orig.rec.role === 'baseline' ? { hardware_class: orig.result.hardware_class, sha: orig.rec.sha } : null;
  const step = replayStep(view, orig, x, o);
  if (step.kind !== 'judged') return { news: [], reason: step.reason, baseline, dropped: false };
  return { news: step.news, reason: step.reason, baseline, dropped: step.verdict !== 'agreed' };
}

/** A run of a claim that its merge waits for: the run's replay (its seeds and schedule), and whom not to ask. */
export interface Held {
  job_id: string;
  reason: string;
  /** null: the run cannot be replayed on its class (replayInfeasible): ask another owner for a fresh-seed run */
  replay: ReplaySpec | null;
  exclude: string[];
}

type Current = Pick<EntryDataOf<'result_recorded'>, 'job_id' | 'role' | 'validated' | 'runner_owner' | 'digest_commitment' | 'result'>;

/**
 * The first of the runs a merge would rest on (`jobIds`) that must be reproduced by a replay and is
 * not yet: the merge waits for that replay (a run of an owner on probation counts only once
 * replayed). `current`: the run being judged, not yet recorded (recorded at `time`).
 */
export function mergeHeldBy(view: LedgerView, jobIds: string[], current: Current, time: string, claim: { owner: string | null; author: string | null }): Held | null {
  const t = view.state.trust;
  for (const id of jobIds) {
    const recorded = view.state.results.get(id)?.data;
    const d = recorded ?? (id === current.job_id ? current : undefined);
    if (!d?.result || !d.runner_owner) continue;
    const waits = recorded ? t.awaitsReplay(id) : t.replayRequired(d as EntryDataOf<'result_recorded'>, time);
    if (!waits) continue;
    // a run no replay can reproduce on its class never counts: the claim needs another owner's run instead
    if (replayInfeasible(view.state, d)) return { job_id: id, reason: `the run of ${d.runner_owner} is over ${INFEASIBLE_PACE} times faster than its class's baseline, so no replay on the class can reproduce it: it does not count`, replay: null, exclude: [d.runner_owner] };
    const r = d.result;
    const prior = (t.replayJobs.get(id) ?? []).map((j) => view.state.results.get(j)?.data.runner_owner).filter((o): o is string => !!o);
    return {
      job_id: id,
      reason: `the merge waits for a replay of the run of ${d.runner_owner}, whose runs count only once another owner reproduces them`,
      replay: { schedule: r.replay!.schedule, seed: r.seed, eval_seed: r.eval_seed! },
      // nor the claim's owner, who wants its verifiers' runs to count
      exclude: [...new Set([d.runner_owner, ...prior, ...[claim.owner, claim.author].filter((o): o is string => !!o)])],
    };
  }
  return null;
}

/**
 * The claim a settled replay of one of its verify runs belongs to, when the claim's PR commit
 * waits on nothing else (undecided, not queued again, and no job of it open besides `job`): its runs are judged
 * again (the replayed run now counts, or no longer does). Null: nothing to continue.
 */
export function claimToContinue(view: LedgerView, job: Dispatched): string | null {
  // (`view` is before this replay's result: it settled the run, or was its last attempt)
  const orig = job.verifies ? view.state.results.get(job.verifies)?.data : undefined;
  if (!orig || orig.role !== 'verify' || job.pr === null) return null;
  const claimId = view.jobs.get(orig.job_id)?.verifies;
  if (!claimId || decidedSince(view, job.pr, job.sha, claimId)) return null;
  // queued again (run on another class, the default branch moved): the commit waits on its new round
  if (view.queue.get(job.pr)?.sha === job.sha) return null;
  if (view.open.some((j) => j.job_id !== job.job_id && j.pr === job.pr && j.sha === job.sha && !isSideReplay(view, j))) return null;
  // a push superseded the commit: the new head is the PR's round (continued, the old claim was
  // queued again in the PR's one queue place, and the new head, put out of it, ran a second time)
  if (latestCommit(view, job.pr) !== job.sha) return null;
  return claimId;
}

/**
 * Whether PR commit `pr@sha` was decided (merged, discarded, set aside as outdated) since the
 * dispatch of job `since`: a commit decided before (a discard run again: its PR reopened, or
 * re-tried after a ban) is undecided in its new round (view.decided still holds it).
 */
export function decidedSince(view: LedgerView, pr: number, sha: string, since: string): boolean {
  if (!view.decided.has(`${pr}@${sha}`)) return false;
  for (let i = view.entries.length - 1; i >= 0; i--) {
    const e = view.entries[i];
    const d = e.data as { pr?: number | null; sha?: string; job_id?: string };
    if (e.type === 'job_dispatched' && d.job_id === since) return false;
    if ((e.type === 'experiment_merged' || e.type === 'experiment_discarded' || e.type === 'experiment_outdated') && d.pr === pr && d.sha === sha) return true;
  }
  return true;
}

/** Entries by which the App takes up a PR commit: a later one of another commit means a push superseded it. */
const TAKEN_UP = new Set(['experiment_queued', 'job_dispatched', 'experiment_rejected', 'experiment_outdated']);

/** The commit of PR `pr` the App took up last (side replays, baseline runs and long runs aside), or null. */
function latestCommit(view: LedgerView, pr: number): string | null {
  for (let i = view.entries.length - 1; i >= 0; i--) {
    const e = view.entries[i];
    if (!TAKEN_UP.has(e.type)) continue;
    const d = e.data as { pr?: number | null; sha?: string; role?: string; job_id?: string; replay?: string; verifies?: string | null };
    if (d.pr !== pr || !d.sha) continue;
    if (e.type === 'job_dispatched' && (d.role === 'baseline' || view.longRuns.has(d.job_id!) || isSideReplay(view, { replay: d.replay, verifies: d.verifies ?? null }))) continue;
    return d.sha;
  }
  return null;
}
