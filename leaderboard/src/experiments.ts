// The leaderboard's reading of the ledger: one record per scored candidate run, with the status
// the App decided (merged, discarded, ...), the baseline it was compared with and its verification.
// Pure: entries in, records out. Every page and the JSON API are rendered from these records.
import type { EntryType, LedgerEntry } from '../../ledger/entries.js';
import { longRunJobs } from '../../ledger/long-run.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { clip } from './format.js';
import { mergeScore, notRestedOn } from './merge-score.js';

export type ExperimentStatus = 'merged' | 'discarded' | 'pending' | 'failed' | 'rejected';

export interface VerificationView {
  verify_job_id: string;
  agreed: boolean;
  claim_bpb: number;
  verify_bpb: number;
  tolerance: number;
  runner_owner: string | null;
  run_url: string | null;
}

export interface Experiment {
  /** ledger seq of the result_recorded entry: unique and stable (the ledger is append-only) */
  seq: number;
  /** that entry's hash: it pins everything the App recorded about the run (result, log, diff) */
  hash: string;
  time: string;
  job_id: string;
  repo: string | null;
  pr: number | null;
  sha: string;
  title: string | null;
  author: string | null;
  runner_name: string | null;
  runner_owner: string | null;
  hardware_class: string;
  val_bpb: number | null;
  baseline_mean: number | null;
  delta: number | null;
  status: ExperimentStatus;
  /** why it was discarded, rejected or failed */
  reason: string | null;
  verification: VerificationView | null;
  run_url: string | null;
  /** the commit its merge made on the default branch, when merged */
  merge_sha: string | null;
  /** the record this experiment tried to beat: the latest merged experiment of its class merged before its result (seq), or null */
  previous_record: number | null;
  /** the diff archived in the entry itself (newer entries); older ones name a file: diff_path */
  diff: string | null;
  diff_path: string | null;
  diff_sha256: string | null;
  log_excerpt: string | null;
  result: ExperimentResult | null;
}

export interface Baseline {
  seq: number;
  time: string;
  hardware_class: string;
  sha: string;
  mean: number;
  sigma: number;
  n: number;
}

export interface Merge {
  seq: number;
  time: string;
  pr: number;
  sha: string;
  merge_sha: string;
  hardware_class: string;
  val_bpb: number;
  baseline_mean: number;
}

/**
 * A PR's job the App closed without a run (app/dispatch.ts closeJob: superseded by a push, its PR
 * closed, no result in time): not an experiment, a line in the PR's history.
 */
export interface ClosedJob {
  seq: number;
  time: string;
  job_id: string;
  pr: number;
  sha: string;
  reason: string;
}

export interface LedgerView {
  experiments: Experiment[];
  /** PR jobs closed without a run, in ledger order: not experiments (see isClosedJob) */
  closedJobs: ClosedJob[];
  baselines: Baseline[];
  merges: Merge[];
  /** every result the ledger holds, by job id (candidate, baseline and verify runs) */
  resultsByJob: Map<string, LedgerEntry<'result_recorded'>>;
}

export function isEntry<T extends EntryType>(e: LedgerEntry, type: T): e is LedgerEntry<T> {
  return e.type === type;
}

const UNKNOWN_CLASS = 'unknown';

/** The longest reason (a failure message is a runner's text, up to megabytes) a page and the API repeat: the rest stays in the ledger */
export const MAX_REASON = 2000;

/**
 * Whether a result entry closes a PR's job that never reported (app/dispatch.ts closeJob): a
 * reason, and neither a result, a run nor a runner. A run that reported always has its run URL
 * recorded (app/handlers/result-intake.ts), so a rejected result is never taken for one. A stray
 * run (pr null: a nonce the App never dispatched) stays a rejected row: a run did happen.
 */
export function isClosedJob(d: LedgerEntry<'result_recorded'>['data']): d is LedgerEntry<'result_recorded'>['data'] & { pr: number; reason: string } {
  return d.pr !== null && d.result === null && d.run_url === null && d.runner_name === null && !d.validated && d.reason !== null;
}

export function readExperiments(entries: readonly LedgerEntry[]): LedgerView {
  const resultsByJob = new Map<string, LedgerEntry<'result_recorded'>>();
  const dispatchByJob = new Map<string, LedgerEntry<'job_dispatched'>['data']>();
  const registeredClass = new Map<string, string>();
  const verificationByClaim = new Map<string, LedgerEntry<'verification'>['data']>();
  const mergedJobs = new Set<string>();
  const mergedPrSha = new Set<string>();
  const discardedPrSha = new Map<string, string>();
  const baselines: Baseline[] = [];
  const baselineJobs = new Map<number, string[]>();
  // when an owner was banned and a run outvoted: from then on the App judges without their runs
  const bannedAt = new Map<string, number>();
  const faultedAt = new Map<string, number>();
  const merges: Merge[] = [];
  const mergeEntries: LedgerEntry<'experiment_merged'>[] = [];
  const candidates: LedgerEntry<'result_recorded'>[] = [];
  const closedJobs: ClosedJob[] = [];

  // a long run of a PR head is paid work, not an experiment of that PR: not a row of its own
  const longRuns = longRunJobs(entries);

  for (const e of entries) {
    if (isEntry(e, 'result_recorded')) {
      resultsByJob.set(e.data.job_id, e);
      if (e.data.role !== 'candidate' || longRuns.has(e.data.job_id)) continue;
      if (isClosedJob(e.data)) closedJobs.push({ seq: e.seq, time: e.time, job_id: e.data.job_id, pr: e.data.pr, sha: e.data.sha, reason: e.data.reason });
      else candidates.push(e);
    } else if (isEntry(e, 'job_dispatched')) {
      dispatchByJob.set(e.data.job_id, e.data);
    } else if (isEntry(e, 'runner_registered')) {
      registeredClass.set(e.data.runner_name, e.data.hardware_class);
    } else if (isEntry(e, 'verification')) {
      verificationByClaim.set(e.data.job_id, e.data);
    } else if (isEntry(e, 'experiment_merged')) {
      for (const id of e.data.job_ids) mergedJobs.add(id);
      mergedPrSha.add(`${e.data.pr}:${e.data.sha}`);
      mergeEntries.push(e);
    } else if (isEntry(e, 'experiment_discarded')) {
      discardedPrSha.set(`${e.data.pr}:${e.data.sha}`, e.data.reason);
    } else if (isEntry(e, 'experiment_outdated')) {
      // not judged: the default branch changed train.ts since the commit branched (app/outdated.ts)
      discardedPrSha.set(`${e.data.pr}:${e.data.sha}`, `outdated: \`${e.data.path}\` changed on the default branch since this commit branched; ${e.data.update === 'requested' ? 'the App updated the branch and the update is tested instead' : 'its author was asked to update the branch'}`);
    } else if (isEntry(e, 'baseline_recorded')) {
      const d = e.data;
      baselines.push({ seq: e.seq, time: e.time, hardware_class: d.hardware_class, sha: d.sha, mean: d.mean, sigma: d.sigma, n: d.n });
      baselineJobs.set(e.seq, d.job_ids);
    } else if (isEntry(e, 'owner_banned')) {
      if (!bannedAt.has(e.data.login.toLowerCase())) bannedAt.set(e.data.login.toLowerCase(), e.seq);
    } else if (isEntry(e, 'owner_faulted')) {
      if (!faultedAt.has(e.data.job_id)) faultedAt.set(e.data.job_id, e.seq);
    }
  }

  // The baseline a result was judged against: the latest one of its class recorded before it, less
  // the runs that stopped counting before the result (app/baselines.ts judgedBaseline)
  const recordedAt = baselineLookup(baselines);
  const baselineAt = (cls: string, seq: number): Baseline | null => {
    const b = recordedAt(cls, seq);
    if (!b) return null;
    const counts = (j: string) => {
      const owner = resultsByJob.get(j)?.data.runner_owner?.toLowerCase();
      return !((faultedAt.get(j) ?? Infinity) < seq) && !(owner && (bannedAt.get(owner) ?? Infinity) < seq);
    };
    const jobs = baselineJobs.get(b.seq) ?? [];
    if (jobs.every(counts)) return b;
    const values = jobs.filter(counts).map((j) => resultsByJob.get(j)?.data.result?.val_bpb).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length < 2) return b;
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const sigma = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
    return { ...b, mean, sigma, n: values.length };
  };
  // (after the loop: a merge's runs are recorded before it, and its score is theirs: merge-score.ts)
  const mergeJobs = new Map<string, LedgerEntry<'experiment_merged'>['data']>();
  for (const { seq, time, data: d } of mergeEntries) {
    merges.push({ seq, time, pr: d.pr, sha: d.sha, merge_sha: d.merge_sha, hardware_class: d.hardware_class, val_bpb: mergeScore(d, resultsByJob), baseline_mean: d.baseline_mean });
    mergeJobs.set(`${d.pr}:${d.sha}`, d);
  }
  const mergeOf = new Map<string, Merge>();
  for (const m of merges) mergeOf.set(`${m.pr}:${m.sha}`, m);
  // the record each result tried to beat: merges and results both in ledger order, one pass
  const resultSeqOf = new Map<string, number>();
  for (const e of candidates) if (!resultSeqOf.has(`${e.data.pr}:${e.data.sha}`)) resultSeqOf.set(`${e.data.pr}:${e.data.sha}`, e.seq);
  const recordOf = new Map<string, number>();
  let nextMerge = 0;
  const recordBefore = (cls: string, seq: number): number | null => {
    for (; nextMerge < merges.length && merges[nextMerge].seq < seq; nextMerge++) {
      const m = merges[nextMerge];
      const at = resultSeqOf.get(`${m.pr}:${m.sha}`);
      if (at !== undefined) recordOf.set(m.hardware_class, at);
    }
    return recordOf.get(cls) ?? null;
  };

  const experiments = candidates.map((e): Experiment => {
    const d = e.data;
    const r = d.result;
    const dispatch = dispatchByJob.get(d.job_id);
    // a validated result's class is its runner's registered one (the App checked); a refused one
    // keeps the class its runner wrote (any string, up to the 8 MB artifact): the App's records instead
    const hardware_class = (d.validated ? r?.hardware_class : null) ?? dispatch?.hardware_class ?? (d.runner_name ? registeredClass.get(d.runner_name) : undefined) ?? UNKNOWN_CLASS;
    let val_bpb = d.validated && r?.status === 'ok' ? r.val_bpb : null;
    const baseline = baselineAt(hardware_class, e.seq);
    const key = `${d.pr}:${d.sha}`;
    let status: ExperimentStatus;
    let reason: string | null = null;
    if (!d.validated || r === null) {
      status = 'rejected';
      reason = d.reason ?? 'the result could not be validated';
    } else if (r.status === 'failed') {
      status = 'failed';
      reason = r.failure ? `${r.failure.kind}: ${r.failure.message}` : 'failed';
    } else if (mergedJobs.has(d.job_id) || mergedPrSha.has(key)) {
      status = 'merged';
      if (!mergedJobs.has(d.job_id)) {
        // the PR was merged on other runs: the row shows what they measured (on its class), not its own
        const m = mergeOf.get(key);
        reason = notRestedOn(val_bpb, mergeJobs.get(key), hardware_class);
        val_bpb = m && m.hardware_class === hardware_class ? m.val_bpb : null;
      }
    } else if (discardedPrSha.has(key)) {
      status = 'discarded';
      reason = discardedPrSha.get(key) ?? null;
    } else {
      status = 'pending';
    }
    const v = verificationByClaim.get(d.job_id);
    const merge = status === 'merged' ? mergeOf.get(key) : undefined;
    const verifyEntry = v ? resultsByJob.get(v.verify_job_id) : undefined;
    return {
      seq: e.seq,
      hash: e.hash,
      time: e.time,
      job_id: d.job_id,
      // the App's own record first: a refused result keeps the job block its runner wrote, repo included
      repo: dispatch?.repo ?? (d.validated ? r?.job?.repo : null) ?? null,
      pr: d.pr,
      sha: d.sha,
      title: d.title,
      author: d.author ?? dispatch?.author ?? null,
      runner_name: d.runner_name,
      runner_owner: d.runner_owner,
      hardware_class,
      val_bpb,
      baseline_mean: baseline?.mean ?? null,
      delta: val_bpb !== null && baseline ? val_bpb - baseline.mean : null,
      status,
      reason: reason === null ? null : clip(reason, MAX_REASON),
      verification: v
        ? {
            verify_job_id: v.verify_job_id,
            agreed: v.agreed,
            claim_bpb: v.claim_bpb,
            verify_bpb: v.verify_bpb,
            tolerance: v.tolerance,
            runner_owner: verifyEntry?.data.runner_owner ?? null,
            run_url: verifyEntry?.data.run_url ?? null,
          }
        : null,
      run_url: d.run_url,
      merge_sha: merge?.merge_sha ?? null,
      previous_record: recordBefore(hardware_class, e.seq),
      diff: d.diff ?? null,
      diff_path: d.diff_path,
      diff_sha256: d.diff_sha256,
      log_excerpt: d.log_excerpt,
      result: r,
    };
  });
  return { experiments, closedJobs, baselines, merges, resultsByJob };
}

function baselineLookup(baselines: readonly Baseline[]): (cls: string, seq: number) => Baseline | null {
  const byClass = new Map<string, Baseline[]>();
  for (const b of baselines) {
    const list = byClass.get(b.hardware_class) ?? [];
    list.push(b);
    byClass.set(b.hardware_class, list);
  }
  return (cls, seq) => {
    const list = byClass.get(cls);
    if (!list) return null;
    // binary search: the last baseline with seq < the result's seq (lists are in ledger order)
    let lo = 0;
    let hi = list.length - 1;
    let found: Baseline | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].seq < seq) {
        found = list[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Hardware classes in a stable order: most experiments first, then by name. */
export function hardwareClasses(experiments: readonly Experiment[], baselines: readonly Baseline[]): string[] {
  const counts = new Map<string, number>();
  for (const b of baselines) counts.set(b.hardware_class, counts.get(b.hardware_class) ?? 0);
  for (const e of experiments) counts.set(e.hardware_class, (counts.get(e.hardware_class) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c]) => c);
}
