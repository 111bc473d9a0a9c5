// Baseline runs of a default-branch commit on a hardware class.
import type { NewJob } from './dispatch.js';
import { classAt, type LedgerView } from './ledger-view.js';
import { pooledSigma } from './policy/decide.js';
import { pickVerifierLabel, type ApiRunner } from './policy/runners.js';
import { baselineFromRuns } from './policy/baseline.js';
import { agreeTolerance, outcomeSettings } from './policy/outcome.js';
import { runStanding } from './policy/side-replays.js';
import type { AutoresearchConfig } from './config.js';
import type { NewEntry } from '../ledger/index.js';
import type { Session } from './session.js';

/**
 * A class's run-to-run sigma, pooled over its recorded baselines (policy/decide.ts pooledSigma):
 * runs of one commit that owners agreed on. Not over the replicas of claims: two adversarial
 * replicas far apart would widen the agreement tolerance until any two runs agree.
 */
export function classSigmaOf(view: LedgerView, cls: string): { sigma: number; df: number } | null {
  return pooledSigma(view.baselines.values(), cls);
}

/** The settings a baseline's size follows (`.github/autoresearch.yml`). */
export interface BaselineSettings {
  baseline_runs: number;
  verification: { min_sigma_df: number };
}

/**
 * Runs a baseline of `cls` needs: `baseline_runs`, or more while the class's pooled sigma has fewer
 * than `verification.min_sigma_df` degrees of freedom (a new class: its first baseline also measures
 * its sigma; a sigma from five runs, df 4, would widen the merge bound k = 3.5 to 9.8 standard
 * errors, df 20 to 4.2: policy/decide.ts `widen`).
 */
export function baselineRunsFor(view: LedgerView, cls: string, c: BaselineSettings): number {
  const df = classSigmaOf(view, cls)?.df ?? 0;
  return Math.max(c.baseline_runs, c.verification.min_sigma_df - df + 1);
}

/**
 * Baseline runs still needed for `cls` at `sha`: the configured count (more for a new class:
 * baselineRunsFor) minus runs recorded or in flight. Once that many are recorded without a baseline
 * (they disagreed, or one owner ran them all: a baseline needs agreeing owners), one more at a time,
 * up to twice the count, and past that only when `otherOwner` (the label of an owner with no run of
 * it yet) can be asked; the extra run goes to that owner when there is one. So a PR waiting for the
 * baseline never waits on runs that nothing will dispatch.
 */
export function baselineJobs(view: LedgerView, cls: string, sha: string, c: BaselineSettings, disagreed = false, otherOwner: string | null = null): NewJob[] {
  if (view.baselines.has(classAt(cls, sha))) return [];
  const needed = baselineRunsFor(view, cls, c);
  // a run its replays outvoted (or that could not be replayed) is no sample: it is run again
  const mine = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha);
  const dropped = mine.filter((b) => runStanding(view, b.job_id) === 'dropped').length;
  const have = mine.length - dropped;
  const open = view.open.filter((j) => j.role === 'baseline' && !view.longRuns.has(j.job_id) && j.hardware_class === cls && j.sha === sha).length;
  const extra = disagreed || have >= needed;
  let count = Math.max(0, needed - have - open);
  let cap: number | undefined;
  if (extra) {
    count = open === 0 && (have < 2 * needed || otherOwner !== null) ? 1 : 0;
    cap = Math.max(2 * needed, have + 1) + dropped;
  } else if (needed > c.baseline_runs || dropped) cap = needed + dropped;
  return Array.from({ length: count }, () => ({
    role: 'baseline' as const,
    pr: null,
    sha,
    author: null,
    hardware_class: cls,
    runner_label: extra && otherOwner ? otherOwner : cls,
    attempt: 1,
    verifies: null,
    check: null,
    comment: null,
    pay: null,
    ...(cap !== undefined ? { cap } : {}),
  }));
}

/**
 * baselineJobs, with the extra runs sent to an online owner of the class who has no baseline run
 * of `sha` yet (one API call, only then): first one whose run of it was never rejected either, so
 * that an owner whose runs keep failing (off pace, forged) cannot hold the baseline up alone.
 */
export async function baselineJobsFor(s: Pick<Session, 'octokit' | 'repo'>, view: LedgerView, cls: string, sha: string, c: BaselineSettings, disagreed = false): Promise<NewJob[]> {
  const needed = baselineRunsFor(view, cls, c);
  const runs = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha);
  const counted = runs.filter((b) => runStanding(view, b.job_id) !== 'dropped').length;
  if (view.baselines.has(classAt(cls, sha)) || (!disagreed && counted < needed)) return baselineJobs(view, cls, sha, c, disagreed);
  const ran = runs.map((b) => b.owner).filter((o): o is string => !!o);
  const rejected = [...view.state.results.values()]
    .map((e) => e.data)
    .filter((r) => r.role === 'baseline' && r.sha === sha && !r.validated && r.runner_owner)
    .map((r) => r.runner_owner as string);
  const { data } = await s.octokit.rest.actions.listSelfHostedRunnersForRepo({ ...s.repo, per_page: 100 });
  const runners = data.runners as ApiRunner[];
  const other = pickVerifierLabel(runners, cls, [...ran, ...rejected]) ?? pickVerifierLabel(runners, cls, ran);
  return baselineJobs(view, cls, sha, c, disagreed, other);
}

/**
 * The baseline of `cls` at `sha` once its runs allow one: only runs that count (no replay was due,
 * or one reproduced them: app/policy/side-replays.ts `runStanding`) enter its mean and so the
 * class's pooled sigma; agreeing owners as policy/baseline.ts asks. Null: not yet, or recorded.
 */
export function baselineDue(view: LedgerView, cls: string, sha: string, c: AutoresearchConfig): NewEntry<'baseline_recorded'> | null {
  if (view.baselines.has(classAt(cls, sha))) return null;
  const runs = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha && runStanding(view, b.job_id) === 'counts');
  const agree = { owners: c.trust.baseline_owners, tolerance: agreeTolerance(outcomeSettings(c), classSigmaOf(view, cls)) };
  const b = baselineFromRuns(runs, cls, sha, baselineRunsFor(view, cls, c), agree);
  return b ? { type: 'baseline_recorded', data: { hardware_class: cls, sha, mean: b.mean, sigma: b.sigma, n: b.n, tokens_per_second: b.tokens_per_second, job_ids: b.job_ids } } : null;
}

/** Whether a baseline run of `cls` at `sha` still waits for its replay (so its baseline may yet form without more runs). */
export function baselineAwaiting(view: LedgerView, cls: string, sha: string): boolean {
  return view.baselineRuns.some((b) => b.hardware_class === cls && b.sha === sha && runStanding(view, b.job_id) === 'awaiting');
}

/** Whether `cls` at `sha` has fewer runs that count or await their replay than its baseline needs. */
export function baselineShort(view: LedgerView, cls: string, sha: string, c: BaselineSettings): boolean {
  const have = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha && runStanding(view, b.job_id) !== 'dropped').length;
  return have < baselineRunsFor(view, cls, c);
}
