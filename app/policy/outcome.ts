// What to do with a scored result. Pure: the checked result, the baseline of its class on the
// default-branch commit it ran on, the claim it verifies (for verify runs) and the settings in.
import type { ExperimentResult, Role } from '../../trainer/result.js';
import type { Baseline } from './baseline.js';
import { judge, judgeVerification, threshold, type Margin } from './decide.js';

export interface OutcomeSettings {
  margin: Margin;
  quorum: number;
  tolerance: number;
  maxAttempts: number;
}

export interface Claim {
  job_id: string;
  val_bpb: number;
  hardware_class: string;
  runner_owner: string | null;
}

export type Outcome =
  /** the result was rejected (forged, unreadable): run the job again elsewhere, or give up */
  | { kind: 'retry'; reason: string }
  | { kind: 'give_up'; reason: string }
  /** a valid run that produced no score (crash, NaN, non-causal, ...): the experiment failed */
  | { kind: 'discard'; reason: string; val_bpb: number | null; threshold: number | null }
  | { kind: 'wait_baseline'; hardware_class: string }
  | { kind: 'verify'; threshold: number; delta: number; exclude_owners: string[] }
  | { kind: 'merge'; threshold: number; claim: Claim }
  | { kind: 'refuted'; reason: string; claim: Claim }
  | { kind: 'verify_again'; reason: string; claim: Claim; exclude_owners: string[] }
  | { kind: 'baseline_run' };

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
  /** for verify runs: the claim and the scores of the verify runs recorded before this one */
  claim: Claim | null;
  earlierVerifies: number[];
}

export function outcome(i: OutcomeInput, s: OutcomeSettings): Outcome {
  if (!i.validated || !i.result) {
    const reason = i.reason ?? 'the result could not be validated';
    return i.attempt < s.maxAttempts ? { kind: 'retry', reason } : { kind: 'give_up', reason: `no valid result after ${i.attempt} attempts (last: ${reason})` };
  }
  const r = i.result;
  if (i.role === 'baseline') return { kind: 'baseline_run' };
  if (r.status !== 'ok' || r.val_bpb === null) {
    const f = r.failure!;
    if (f.kind === 'harness_error') {
      const reason = `the harness failed on the runner: ${f.message}`;
      return i.attempt < s.maxAttempts ? { kind: 'retry', reason } : { kind: 'give_up', reason };
    }
    if (i.role === 'verify' && i.claim) return { kind: 'refuted', reason: `the verify run failed (${f.kind}: ${f.message})`, claim: i.claim };
    return { kind: 'discard', reason: `the run failed (${f.kind}): ${f.message}`, val_bpb: null, threshold: null };
  }
  if (!i.baseline) return { kind: 'wait_baseline', hardware_class: r.hardware_class };
  if (i.role === 'candidate') {
    const v = judge(r.val_bpb, i.baseline, s.margin);
    if (v.kind === 'improvement' && s.quorum === 0) {
      return { kind: 'merge', threshold: v.threshold, claim: { job_id: '', val_bpb: r.val_bpb, hardware_class: r.hardware_class, runner_owner: i.runnerOwner } };
    }
    if (v.kind === 'improvement') return { kind: 'verify', threshold: v.threshold, delta: v.delta, exclude_owners: i.runnerOwner ? [i.runnerOwner] : [] };
    const t = threshold(i.baseline, s.margin);
    return {
      kind: 'discard',
      reason: `val_bpb ${r.val_bpb.toFixed(4)} does not beat ${t.toFixed(4)} (baseline ${i.baseline.mean.toFixed(4)} minus the margin)`,
      val_bpb: r.val_bpb,
      threshold: t,
    };
  }
  // verify
  const claim = i.claim;
  if (!claim) return { kind: 'give_up', reason: 'a verify run whose claim is not in the ledger' };
  const owners = claim.runner_owner ? [claim.runner_owner] : [];
  if (r.hardware_class !== claim.hardware_class) {
    return { kind: 'verify_again', reason: `the verify run ran on ${r.hardware_class}, not the claim's ${claim.hardware_class}`, claim, exclude_owners: owners };
  }
  if (!i.runnerOwner || (claim.runner_owner && i.runnerOwner.toLowerCase() === claim.runner_owner.toLowerCase())) {
    return { kind: 'verify_again', reason: `the verify run ran on a runner of ${i.runnerOwner ?? 'an unknown owner'}, not an independent one`, claim, exclude_owners: owners };
  }
  const t = threshold(i.baseline, s.margin);
  const v = judgeVerification(claim.val_bpb, [...i.earlierVerifies, r.val_bpb], t, s.quorum, s.tolerance);
  if (v.kind === 'confirmed') return { kind: 'merge', threshold: t, claim };
  if (v.kind === 'refuted') return { kind: 'refuted', reason: v.reason, claim };
  return { kind: 'verify_again', reason: `${v.agreeing} of ${s.quorum} verify runs agree so far`, claim, exclude_owners: [...owners, i.runnerOwner] };
}
