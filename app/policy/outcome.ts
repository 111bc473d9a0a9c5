// What to do with a scored result. Pure: the checked result, the baseline of its class on the
// default-branch commit it ran on, the claim it verifies (for verify runs) and the settings in.
import type { ExperimentResult, Role } from '../../trainer/result.js';
import type { Baseline } from './baseline.js';
import type { AutoresearchConfig } from '../config.js';
import { judge, mergeThreshold, screenThreshold, widen, type Margin, type Scale, type Sequential } from './decide.js';
import { judgeReplicas, type Run } from './replication.js';
import { shown } from './shown.js';

export interface OutcomeSettings {
  margin: Margin;
  seq: Sequential;
  quorum: number;
  /** the floor of the agreement tolerance, bpb */
  tolerance: number;
  /** two runs agree within agree_sigmas * sqrt(2) * sigma of their class (at least `tolerance`) */
  agree_sigmas: number;
  maxAttempts: number;
  /** a claim beating its class's baseline (the best on the default branch) by more than `bpb` needs `extra` more independent owners */
  jump?: { bpb: number; extra: number };
  /** agreeing owners that outvote a run that disagrees with them (trust.outvote_quorum; 2 when absent) */
  outvote?: number;
}

/** The owners (besides the claim's) a claim of `claimBpb` needs: `quorum`, plus `jump.extra` when it jumps past the class's best by more than `jump.bpb`. */
export function quorumFor(s: Pick<OutcomeSettings, 'quorum' | 'jump'>, scale: Scale | null, claimBpb: number | null): number {
  const suspicious = !!s.jump && scale !== null && claimBpb !== null && scale.mean - claimBpb > s.jump.bpb + 1e-9; // (2.0 - 1.9 is 0.1000000000000001)
  return s.quorum + (suspicious ? s.jump!.extra : 0);
}

/** The settings of outcome() from the repository's configuration. */
export function outcomeSettings(c: AutoresearchConfig): OutcomeSettings {
  const v = c.verification;
  return { margin: c.margin, seq: { screen: v.screen, futility: v.futility, max_runs: v.max_runs }, quorum: v.quorum, tolerance: v.tolerance, agree_sigmas: v.agree_sigmas, maxAttempts: c.max_attempts, jump: { bpb: v.suspicious_jump, extra: v.suspicious_extra_owners }, outvote: c.trust.outvote_quorum };
}

/**
 * How far apart two runs of one job on a class of run-to-run `sigma` (estimated with `df` degrees
 * of freedom) may score and still agree: an honest pair differs by more with probability ~5e-4.
 */
export function agreeTolerance(s: Pick<OutcomeSettings, 'tolerance' | 'agree_sigmas'>, sigma: { sigma: number; df?: number } | null): number {
  return Math.max(s.tolerance, widen(s.agree_sigmas, sigma?.df) * Math.SQRT2 * (sigma?.sigma ?? 0));
}

export interface Claim {
  job_id: string;
  /** null: the claim is a failed run (replicated before it is discarded) */
  val_bpb: number | null;
  hardware_class: string;
  runner_owner: string | null;
}

export type Outcome =
  /** the result was rejected (forged, unreadable): run the job again elsewhere, or give up */
  | { kind: 'retry'; reason: string; /** the owner whose run was refused: the next attempt goes to another's runner */ elsewhere?: string; /** owners the next attempt avoids besides `elsewhere`: those who refused this job before, and those who may not run it (app/policy/refusals.ts) */ avoid?: string[] }
  | { kind: 'give_up'; reason: string }
  /** a valid run that produced no score (crash, NaN, non-causal, ...): the experiment failed */
  | { kind: 'discard'; reason: string; val_bpb: number | null; threshold: number | null; faults?: Faults }
  | { kind: 'wait_baseline'; hardware_class: string }
  /** re-run on another owner's runner: an improvement claim, or (`replicate` says why) a result about to be discarded */
  | { kind: 'verify'; threshold: number | null; delta: number | null; exclude_owners: string[]; replicate?: string }
  /** `job_ids`: the agreeing runs the merge rests on */
  | { kind: 'merge'; threshold: number; claim: Claim; job_ids?: string[]; faults?: Faults }
  | { kind: 'refuted'; reason: string; claim: Claim; faults?: Faults }
  /** `uncounted`: this verify run was refused as a replica (its owner or class), as opposed to one that counted without settling the claim */
  | { kind: 'verify_again'; reason: string; claim: Claim; exclude_owners: string[]; uncounted?: true; /** the next job replays this run of the claim (its merge waits for it: app/policy/side-replays.ts) instead of a fresh-seed run */ replays?: string }
  | { kind: 'baseline_run' }
  /** no owner but the excluded has a runner on the claim's class: the PR runs on `hardware_class` instead (app/waiting.ts noVerifier) */
  | { kind: 'run_elsewhere'; reason: string; hardware_class: string }
  /** a replay of a baseline run or of a fresh-seed verify run (app/policy/side-replays.ts): it decides nothing about the PR */
  | { kind: 'side_replay'; reason: string; baseline: { hardware_class: string; sha: string } | null; dropped: boolean };

/** runs outvoted by the agreeing `group` of owners */
export interface Faults {
  wrong: Run[];
  group: Run[];
}

export interface OutcomeInput {
  role: Role;
  validated: boolean;
  reason: string | null;
  result: ExperimentResult | null;
  attempt: number;
  /** the owner of the runner GitHub says ran the job */
  runnerOwner: string | null;
  /** the baseline of the result's class on the default-branch commit the run used */
  baseline: Baseline | null;
  /** the class's run-to-run sigma pooled over its baselines, with its degrees of freedom (decide.ts pooledSigma); the baseline's own when absent */
  classSigma?: { sigma: number; df: number } | null;
  /** for verify runs: the claim and its counted replicas recorded before this one */
  claim: Claim | null;
  replicas: Run[];
  /** this run's job id, and the PR's author (whose runners never count toward a quorum) */
  job_id?: string;
  author?: string | null;
}

/**
 * Dispatches a job of `role` gets before a rejected result gives it up. A verify job's attempt counts
 * every run of its claim's chain (each verify_again is attempt + 1), so its limit is `max_runs` more
 * than the first run's: the handler bounds counted runs the same way. With the first run's limit, an
 * off-pace third replica (10% of a loaded class's runs) gave the PR up: the simulator lost 2 of 11 live
 * 3-sigma improvements so (seed 1, 1,000 PRs).
 */
export function attemptLimit(role: Role, s: Pick<OutcomeSettings, 'maxAttempts' | 'seq'>): number {
  return role === 'verify' ? s.maxAttempts + s.seq.max_runs : s.maxAttempts;
}

export function outcome(i: OutcomeInput, s: OutcomeSettings): Outcome {
  const limit = attemptLimit(i.role, s);
  if (!i.validated || !i.result) {
    const reason = i.reason ?? 'the result could not be validated';
    // an off-pace run goes to another owner's runner (its machine is loaded now); so does any other
    // refusal of a registered owner's, which the caller adds (app/policy/refusals.ts)
    const elsewhere = reason.startsWith('off pace') && i.runnerOwner ? { elsewhere: i.runnerOwner } : {};
    return i.attempt < limit ? { kind: 'retry', reason, ...elsewhere } : { kind: 'give_up', reason: `no valid result after ${i.attempt} attempts (last: ${reason})` };
  }
  const r = i.result;
  if (i.role === 'baseline') return { kind: 'baseline_run' };
  if (r.status !== 'ok' || r.val_bpb === null) {
    const f = r.failure!;
    if (f.kind === 'harness_error') {
      const reason = `the harness failed on the runner: ${shown(f.message)}`;
      return i.attempt < limit ? { kind: 'retry', reason } : { kind: 'give_up', reason };
    }
    // a failed verify run is one of the claim's runs like any other (below)
    if (i.role !== 'verify') return { kind: 'discard', reason: `the run failed (${f.kind}): ${shown(f.message)}`, val_bpb: null, threshold: null };
  }
  const failed = r.status !== 'ok' || r.val_bpb === null;
  if (!i.baseline && !(failed && i.role === 'verify')) return { kind: 'wait_baseline', hardware_class: r.hardware_class };
  const scale: Scale | null = i.baseline
    ? { mean: i.baseline.mean, sigma: i.classSigma?.sigma ?? i.baseline.sigma, n: i.baseline.n, df: i.classSigma?.df ?? Math.max(1, i.baseline.n - 1) }
    : null;
  if (i.role === 'candidate' && scale && r.val_bpb !== null) {
    if (quorumFor(s, scale, r.val_bpb) === 0 && r.val_bpb < mergeThreshold(scale, s.margin, 1)) {
      return { kind: 'merge', threshold: mergeThreshold(scale, s.margin, 1), claim: { job_id: '', val_bpb: r.val_bpb, hardware_class: r.hardware_class, runner_owner: i.runnerOwner } };
    }
    const v = judge(r.val_bpb, scale, s.seq);
    if (v.kind === 'improvement') return { kind: 'verify', threshold: v.threshold, delta: v.delta, exclude_owners: [i.runnerOwner, i.author].filter((x): x is string => !!x) };
    const t = screenThreshold(scale, s.seq);
    return {
      kind: 'discard',
      reason: `val_bpb ${r.val_bpb.toFixed(4)} does not beat ${t.toFixed(4)} (baseline ${scale.mean.toFixed(4)} minus ${s.seq.screen} standard errors of one run)`,
      val_bpb: r.val_bpb,
      threshold: t,
    };
  }
  // verify
  const claim = i.claim;
  if (!claim) return { kind: 'give_up', reason: 'a verify run whose claim is not in the ledger' };
  const owners = claim.runner_owner ? [claim.runner_owner] : [];
  if (r.hardware_class !== claim.hardware_class) {
    return { kind: 'verify_again', reason: `the verify run ran on ${r.hardware_class}, not the claim's ${claim.hardware_class}`, claim, exclude_owners: owners, uncounted: true };
  }
  if (!i.runnerOwner || (claim.runner_owner && i.runnerOwner.toLowerCase() === claim.runner_owner.toLowerCase())) {
    return { kind: 'verify_again', reason: `the verify run ran on a runner of ${i.runnerOwner ?? 'an unknown owner'}, not an independent one`, claim, exclude_owners: owners, uncounted: true };
  }
  if (i.author && i.runnerOwner.toLowerCase() === i.author.toLowerCase()) {
    return { kind: 'verify_again', reason: `the verify run ran on a runner of ${i.runnerOwner}, the PR's author`, claim, exclude_owners: [...owners, i.author], uncounted: true };
  }
  if (i.replicas.some((x) => x.owner.toLowerCase() === i.runnerOwner!.toLowerCase())) {
    return { kind: 'verify_again', reason: `${i.runnerOwner} already ran this job once`, claim, exclude_owners: [...owners, ...i.replicas.map((x) => x.owner)], uncounted: true };
  }
  const t = scale ? screenThreshold(scale, s.seq) : null;
  const mine: Run = { job_id: i.job_id ?? '', owner: i.runnerOwner, val_bpb: r.status === 'ok' ? r.val_bpb : null };
  // the author's runs never count, even ones recorded before this rule
  const replicas = i.replicas.filter((x) => !i.author || x.owner.toLowerCase() !== i.author.toLowerCase());
  const quorum = quorumFor(s, scale, claim.val_bpb);
  const v = judgeReplicas({ job_id: claim.job_id, owner: claim.runner_owner ?? '', val_bpb: claim.val_bpb }, [...replicas, mine], {
    scale,
    margin: s.margin,
    seq: { ...s.seq, max_runs: Math.max(s.seq.max_runs, quorum + 2) },
    quorum,
    tolerance: agreeTolerance(s, scale),
    author: i.author ?? null,
    outvote: s.outvote,
  });
  const improvementClaim = t !== null && claim.val_bpb !== null && claim.val_bpb < t;
  switch (v.kind) {
    case 'more':
      return { kind: 'verify_again', reason: v.reason, claim, exclude_owners: v.exclude_owners };
    case 'merge':
      return { kind: 'merge', threshold: mergeThreshold(scale!, s.margin, v.group.length), claim, job_ids: v.group.map((g) => g.job_id), faults: { wrong: v.wrong, group: v.group } };
    case 'discard': {
      const faults = { wrong: v.wrong, group: v.group };
      if (improvementClaim) return { kind: 'refuted', reason: v.reason, claim, faults };
      const scores = v.group.map((g) => g.val_bpb).filter((x): x is number => x !== null);
      return { kind: 'discard', reason: v.reason, val_bpb: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null, threshold: t, faults };
    }
    case 'split':
      return improvementClaim ? { kind: 'refuted', reason: v.reason, claim } : { kind: 'discard', reason: v.reason, val_bpb: null, threshold: t };
  }
}
