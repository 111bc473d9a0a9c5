// The merge rule. Pure: plain numbers in, a verdict out.
import type { Baseline } from './baseline.js';

export interface Margin {
  k: number;
  min_delta: number;
}

/** The score a run must beat: mean - max(k * sigma, min_delta). */
export function threshold(baseline: Pick<Baseline, 'mean' | 'sigma'>, margin: Margin): number {
  return baseline.mean - Math.max(margin.k * baseline.sigma, margin.min_delta);
}

export type Verdict =
  | { kind: 'no_baseline' }
  | { kind: 'improvement'; threshold: number; delta: number }
  | { kind: 'no_improvement'; threshold: number; delta: number };

/** Whether one candidate score claims an improvement over its class baseline. */
export function judge(valBpb: number, baseline: Baseline | null, margin: Margin): Verdict {
  if (!baseline) return { kind: 'no_baseline' };
  const t = threshold(baseline, margin);
  const delta = valBpb - baseline.mean;
  return valBpb < t ? { kind: 'improvement', threshold: t, delta } : { kind: 'no_improvement', threshold: t, delta };
}

export type VerifyOutcome = { kind: 'pending'; agreeing: number } | { kind: 'confirmed' } | { kind: 'refuted'; reason: string };

/**
 * A claim is confirmed when `quorum` verify runs (each by a different owner than the claim's
 * runner) agree with it within `tolerance` and each beats the threshold on its own, so one
 * lucky run cannot merge a change; one disagreeing run refutes it.
 */
export function judgeVerification(
  claimBpb: number,
  verifyBpbs: number[],
  thresholdBpb: number,
  quorum: number,
  tolerance: number,
): VerifyOutcome {
  let agreeing = 0;
  for (const v of verifyBpbs) {
    if (Math.abs(v - claimBpb) > tolerance) {
      return { kind: 'refuted', reason: `a verify run scored ${v.toFixed(4)}, more than ${tolerance} from the claim's ${claimBpb.toFixed(4)}` };
    }
    if (!(v < thresholdBpb)) {
      return { kind: 'refuted', reason: `a verify run scored ${v.toFixed(4)}, which does not beat the threshold ${thresholdBpb.toFixed(4)}` };
    }
    agreeing++;
  }
  return agreeing >= quorum ? { kind: 'confirmed' } : { kind: 'pending', agreeing };
}
