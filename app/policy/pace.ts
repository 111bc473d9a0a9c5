// Whether a run's machine was at its usual pace. Under a wall-clock budget a loaded or throttled
// machine trains fewer steps and scores worse: noise its owner controls, not a worse candidate.
// The harness times a fixed calibration workload before and after training (trainer/result.ts);
// a run slower than its class's usual pace, its owner's usual pace, or than itself before
// training, is run again elsewhere instead of scored. It is no fault: it earns nothing and costs
// its owner no trust. A calibration is the runner's claim like everything in result.json, so this
// protects honest runners from their own load; lying about it gains nothing the replication
// policy does not catch. Pure: the calibration and the ledger's earlier calibrations in.
import type { LedgerState } from '../../ledger/index.js';
import type { ExperimentResult } from '../../trainer/result.js';

type Calibration = NonNullable<ExperimentResult['calibration']>;

/** Earlier calibrations needed before a median is trusted as the usual pace. */
export const MIN_HISTORY = 3;
/** How many of the most recent calibrations make the usual pace. */
export const HISTORY = 50;

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const pct = (x: number) => `${Math.round(x * 100)}%`;
const g = (x: number) => `${Number(x.toPrecision(4))}`;

/** Why the run was off pace (the reason it is run again), or null when it was at pace or carries no calibration. */
export function offPace(cal: Calibration | null | undefined, history: { cls: string; classPace: number[]; ownPace: number[] }, tolerance: number): string | null {
  if (!cal) return null;
  const { before_gflops: before, after_gflops: after } = cal;
  if (after < before * (1 - tolerance)) {
    return `off pace: the calibration workload ran at ${g(after)} GFLOP/s after training, ${pct(1 - after / before)} below the ${g(before)} before (the machine was loaded or throttled during the run)`;
  }
  const pace = Math.min(before, after);
  for (const [who, xs] of [[`${history.cls}'s usual`, history.classPace], ['its owner\'s usual', history.ownPace]] as const) {
    if (xs.length < MIN_HISTORY) continue;
    const usual = median(xs);
    if (pace < usual * (1 - tolerance)) return `off pace: the calibration workload ran at ${g(pace)} GFLOP/s, ${pct(1 - pace / usual)} below ${who} ${g(usual)} (median of ${xs.length} runs)`;
  }
  return null;
}

/** The recent at-pace calibrations of `workload` on `cls`: all owners', and `owner`'s own. */
export function paceHistory(state: LedgerState, cls: string, workload: string, owner: string | null): { cls: string; classPace: number[]; ownPace: number[] } {
  const classPace: number[] = [];
  const ownPace: number[] = [];
  for (const { data: r } of state.results.values()) {
    const c = r.result?.calibration;
    if (!r.validated || !c || c.workload !== workload || r.result!.hardware_class !== cls) continue;
    const pace = Math.min(c.before_gflops, c.after_gflops);
    classPace.push(pace);
    if (owner && r.runner_owner?.toLowerCase() === owner.toLowerCase()) ownPace.push(pace);
  }
  return { cls, classPace: classPace.slice(-HISTORY), ownPace: ownPace.slice(-HISTORY) };
}
