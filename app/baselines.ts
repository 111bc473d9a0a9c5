// Baseline runs of a default-branch commit on a hardware class.
import { reusableRuns, reuseProblem } from '../ledger/baseline-reuse.js';
import type { ExperimentResult } from '../trainer/result.js';
import type { EntryDataOf } from '../ledger/index.js';
import type { NewJob } from './dispatch.js';
import { classAt, type LedgerView } from './ledger-view.js';
import type { BaselineRun } from './policy/baseline.js';
import { pooledSigma, type RunGroup } from './policy/decide.js';
import { pickVerifierLabel } from './policy/runners.js';
import { listRunners } from './github/runners.js';
import { baselineFromRuns, cutOwners, meanSigma, type Baseline } from './policy/baseline.js';
import { agreeTolerance, outcomeSettings } from './policy/outcome.js';
import { runStanding } from './policy/side-replays.js';
import type { AutoresearchConfig } from './config.js';
import type { NewEntry } from '../ledger/index.js';
import type { Session } from './session.js';

/**
 * A class's run-to-run sigma, pooled over its recorded baselines (policy/decide.ts pooledSigma):
 * runs of one commit that owners agreed on. Not over the replicas of claims: two adversarial
 * replicas far apart would widen the agreement tolerance until any two runs agree. Each baseline
 * counts only the runs that still count (countedGroup): a run of an owner banned since, or one
 * other owners outvoted, is left out of the spread as it is left out of the runs a baseline counts.
 */
export function classSigmaOf(view: LedgerView, cls: string): { sigma: number; df: number } | null {
  return pooledSigma([...view.baselines.values()].filter((b) => b.hardware_class === cls).map((b) => countedGroup(view, b)), cls);
}

/**
 * The baseline of `cls` at `sha` a result is judged against: as recorded, or, when some of its runs
 * no longer count (countedGroup), the mean and spread of the rest (at least two of them). A banned
 * owner's baseline runs would otherwise keep moving the bar for every PR judged against that
 * commit: a saboteur's low runs hold real improvements back, a made-up high one lets a null
 * change through more easily.
 */
export function judgedBaseline(view: LedgerView, cls: string, sha: string): Baseline | null {
  const b = view.baselines.get(classAt(cls, sha));
  if (!b) return null;
  const recorded: Baseline = { hardware_class: b.hardware_class, sha: b.sha, mean: b.mean, sigma: b.sigma, n: b.n, tokens_per_second: b.tokens_per_second };
  const g = countedGroup(view, b);
  if (!('values' in g) || g.values.length < 2) return recorded;
  const { mean, sigma, n } = meanSigma(g.values);
  return { ...recorded, mean, sigma, n };
}

/**
 * A recorded baseline as a group of runs for the pooled sigma: as recorded, or, when some of its
 * runs no longer count (their owner was banned or other owners outvoted them after it was
 * recorded), the values of the rest. Before, a banned owner's runs widened its class's sigma for
 * good: in the simulator (seed 3, 1,000 PRs) a lazy GPU owner's made-up baseline runs, 3-4 sigma
 * high, sat in 5 of 10 GPU baselines and the class's pooled sigma stayed 0.0106 against a true
 * 0.0081, so a 3-sigma improvement scored ~2.3 standard errors and fell short of the screen.
 */
function countedGroup(view: LedgerView, b: EntryDataOf<'baseline_recorded'>): RunGroup {
  const trust = view.state.trust;
  const counts = (j: string) => {
    const r = view.state.results.get(j)?.data;
    return !trust.faulted.has(j) && !(r?.runner_owner && trust.banned(r.runner_owner));
  };
  if (b.job_ids.every(counts)) return b;
  const values = b.job_ids
    .filter(counts)
    .map((j) => view.state.results.get(j)?.data.result?.val_bpb)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return { hardware_class: b.hardware_class, values };
}

/** The settings a baseline's size follows (`.github/autoresearch.yml`). */
export interface BaselineSettings {
  baseline_runs: number;
  verification: { min_sigma_df: number };
}

/**
 * The runs of `cls` at `sha` that count toward its baseline now (with `extra`, a run about to be
 * recorded): its baseline runs (none outvoted, none of a banned owner), and the runs of the merged
 * claim that made `sha` that its merge named (LedgerView.baselineRuns) and that are still eligible
 * (ledger/baseline-reuse.ts: not outvoted, banned or awaiting a replay since) and ran the train.ts,
 * harness and budget of every run of the commit itself (the audit checks the same: ledger/audit.ts).
 */
export function baselineRunsOf(view: LedgerView, cls: string, sha: string, extra?: { run: BaselineRun; result: ExperimentResult }): BaselineRun[] {
  // never a run other owners outvoted, nor one of a banned owner (the audit refuses a baseline that counts one)
  // nor one its replays refuted or that no replay could be had for (policy/side-replays.ts runStanding)
  const out = (b: BaselineRun) => view.state.trust.faulted.has(b.job_id) || (!!b.owner && !!view.state.trust.banned(b.owner)) || (!b.reused && runStanding(view, b.job_id) === 'dropped');
  const mine = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha && !out(b));
  if (extra) mine.push(extra.run);
  if (!mine.some((b) => b.reused)) return mine;
  const m = view.state.merges.get(sha);
  const keyOf = (b: BaselineRun) => sampleKey(b.job_id === extra?.run.job_id ? extra.result : view.state.results.get(b.job_id)?.data.result);
  const own = new Set(mine.filter((b) => !b.reused).map(keyOf));
  if (own.size > 1) return mine.filter((b) => !b.reused);
  return mine.filter((b) => !b.reused || (m && !reuseProblem(view.state, m, b.job_id) && (own.size === 0 || own.has(keyOf(b)))));
}

/** What runs of one baseline share: the harness, the budget and train.ts. */
const sampleKey = (r: ExperimentResult | null | undefined) => (r ? `${r.harness_sha256} ${r.harness_version} ${r.budget_seconds} ${r.candidate_sha256}` : '');

/**
 * The runs of a merged claim (`merged`, about to be recorded) to count as the first samples of
 * its commit's baseline on its class (docs/trust.md 2a): those the ledger's rule allows
 * (ledger/baseline-reuse.ts), that ran `train.ts` and the harness of the merge commit
 * (`atMerge`, what the App computes from GitHub) for the configured budget, at most the baseline's
 * runs less one: a baseline needs a run of the commit itself beside them.
 */
export function reusedSamples(view: LedgerView, merged: EntryDataOf<'experiment_merged'>, atMerge: { harness_sha256: string; candidate_sha256: string | null }, c: BaselineSettings & { budget_seconds: number }): string[] {
  const ok = reusableRuns(view.state, merged).filter((j) => {
    const r = view.state.results.get(j)!.data.result!;
    return r.harness_sha256 === atMerge.harness_sha256 && r.candidate_sha256 === atMerge.candidate_sha256 && r.budget_seconds === c.budget_seconds;
  });
  return ok.slice(0, Math.max(0, baselineRunsFor(view, merged.hardware_class, c) - 1));
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
  const dropped = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha && !b.reused && runStanding(view, b.job_id) === 'dropped').length;
  const counted = baselineRunsOf(view, cls, sha);
  const have = counted.length;
  const reused = counted.filter((b) => b.reused).length;
  const open = view.open.filter((j) => j.role === 'baseline' && !view.longRuns.has(j.job_id) && j.hardware_class === cls && j.sha === sha).length;
  const extra = disagreed || have >= needed;
  let count = Math.max(0, needed - have - open);
  let cap: number | undefined;
  if (extra) {
    count = open === 0 && (have < 2 * needed || otherOwner !== null) ? 1 : 0;
    cap = Math.max(2 * needed, have + 1) + dropped;
  } else if (needed > c.baseline_runs || dropped || reused) cap = needed - reused + dropped; // (the cap counts the commit's own runs, dropped ones too: app/dispatch.ts)
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
  const runs = baselineRunsOf(view, cls, sha);
  if (view.baselines.has(classAt(cls, sha)) || (!disagreed && runs.length < needed)) return baselineJobs(view, cls, sha, c, disagreed);
  // an owner whose every run the outlier cut left out has no sample in it: it may be asked again
  const cut = cutOwners(runs, cls, sha);
  const ran = runs.map((b) => b.owner).filter((o): o is string => !!o && !cut.includes(o.toLowerCase()));
  const rejected = [...view.state.results.values()]
    .map((e) => e.data)
    .filter((r) => r.role === 'baseline' && r.sha === sha && !r.validated && r.runner_owner)
    .map((r) => r.runner_owner as string);
  const runners = await listRunners(s.octokit, s.repo);
  // never a banned owner: its run would be refused at intake and asked of it again, tick after tick
  const banned = [...view.state.trust.owners.values()].filter((o) => o.banned).map((o) => o.login);
  const other = pickVerifierLabel(runners, cls, [...ran, ...rejected, ...banned]) ?? pickVerifierLabel(runners, cls, [...ran, ...banned]);
  return baselineJobs(view, cls, sha, c, disagreed, other);
}

/**
 * The baseline of `cls` at `sha` once its runs allow one: only runs that count (no replay was due,
 * or one reproduced them: app/policy/side-replays.ts `runStanding`) enter its mean and so the
 * class's pooled sigma; agreeing owners as policy/baseline.ts asks. Null: not yet, or recorded.
 */
export function baselineDue(view: LedgerView, cls: string, sha: string, c: AutoresearchConfig): NewEntry<'baseline_recorded'> | null {
  if (view.baselines.has(classAt(cls, sha))) return null;
  const runs = baselineRunsOf(view, cls, sha).filter((b) => b.reused || runStanding(view, b.job_id) === 'counts');
  const agree = { owners: c.trust.baseline_owners, tolerance: agreeTolerance(outcomeSettings(c), classSigmaOf(view, cls)) };
  const b = baselineFromRuns(runs, cls, sha, baselineRunsFor(view, cls, c), agree);
  return b ? { type: 'baseline_recorded', data: { hardware_class: cls, sha, mean: b.mean, sigma: b.sigma, n: b.n, tokens_per_second: b.tokens_per_second, job_ids: b.job_ids } } : null;
}

/** Whether a baseline run of `cls` at `sha` still waits for its replay (so its baseline may yet form without more runs). */
export function baselineAwaiting(view: LedgerView, cls: string, sha: string): boolean {
  return view.baselineRuns.some((b) => b.hardware_class === cls && b.sha === sha && !b.reused && runStanding(view, b.job_id) === 'awaiting');
}

/** Whether `cls` at `sha` has fewer runs that count or await their replay than its baseline needs. */
export function baselineShort(view: LedgerView, cls: string, sha: string, c: BaselineSettings): boolean {
  const have = baselineRunsOf(view, cls, sha).length;
  return have < baselineRunsFor(view, cls, c);
}
