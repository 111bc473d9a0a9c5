// Whether a run's machine was at its usual pace. Under a wall-clock budget a loaded or throttled
// machine trains fewer steps and scores worse: noise its owner controls, not a worse candidate.
// The harness times a fixed calibration workload before and after training (trainer/result.ts);
// a run slower than its class's usual pace, its owner's usual pace, or than itself before
// training, is run again elsewhere instead of scored. It is no fault: it earns nothing and costs
// its owner no trust. A calibration is the runner's claim like everything in result.json, so this
// protects honest runners from their own load; lying about it gains nothing the replication
// policy does not catch. Pure: the calibration and the ledger's earlier calibrations in.
//
// The pre-flight check moves the class test before training: the App sends every job its classes'
// floors (`paceFloors`: the class median less the tolerance, the very line offPace draws), and the
// harness gives the job back after its calibration, seconds in, when it is below its class's floor
// (status off_pace). The App runs it elsewhere without scoring it, credits nothing (nothing useful
// was done, and a paid give-back would pay for bouncing work) and faults no one; an owner that keeps
// giving jobs back gets no new runner for a while (`givingBack`). The check is advisory: a runner
// can skip it, so offPace still judges every result after training.
import type { EntryDataOf, LedgerEntry, LedgerState } from '../../ledger/index.js';
import { floorFor, type PaceFloors } from '../../trainer/pace-floors.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { shown } from './shown.js';
import { refusal } from './refusals.js';

type Calibration = NonNullable<ExperimentResult['calibration']>;

/** An owner's own calibrations needed before their median is trusted as its usual pace. */
export const MIN_HISTORY = 3;
/** Owners with calibrations of a class needed before the median of their usual paces is the class's. */
export const MIN_OWNERS = 2;
/** How many of an owner's most recent calibrations make its usual pace. */
export const HISTORY = 50;

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
/**
 * The lower median: of an even count, the lower of the middle two. A class's usual pace is the lower
 * median of its owners' usual paces, so raising it takes more than half of the owners: with the mean
 * of the middle two, one owner of two (or two of four) reporting made-up fast calibrations lifted the
 * class's pace as far as they liked, and every honest run fell below it (refused as off pace: no
 * credit, run again, a PR given up after its attempts). Lowering it only loosens the check.
 */
const lowerMedian = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const pct = (x: number) => `${Math.round(x * 100)}%`;
/** A run's pace: the slower of its two calibrations; after_gflops 0 is no calibration after training (a run that never reached evaluation, or given back). */
const paceOf = (c: Calibration) => (c.after_gflops > 0 ? Math.min(c.before_gflops, c.after_gflops) : c.before_gflops);
const g = (x: number) => `${Number(x.toPrecision(4))}`;

/**
 * Each owner's recent calibrations of each class and workload (`${class}\0${workload}` -> owner ->
 * paces, oldest first): every result bound to its job whose figures are its machine's claim, the
 * ones refused as off pace included, of owners not banned. A class's usual pace is then the median
 * of its owners' medians: one owner's loaded runs, or one owner's made-up figures, cannot move it,
 * and a run refused as off pace still counts, so a usual pace set too high (an early fast or lying
 * owner) is outvoted as honest owners report, never locked in.
 */
function owners(state: LedgerState): Map<string, Map<string, number[]>> {
  const hit = ownersMemo.get(state);
  if (hit) return hit;
  const out = new Map<string, Map<string, number[]>>();
  for (const { data: r } of state.results.values()) {
    const c = r.result?.calibration;
    if (!c || !r.runner_owner || !(r.validated || r.reason?.startsWith('off pace')) || state.trust.banned(r.runner_owner)) continue;
    const key = `${r.result!.hardware_class}\0${c.workload}`;
    if (!out.has(key)) out.set(key, new Map());
    const byOwner = out.get(key)!;
    const who = r.runner_owner.toLowerCase();
    if (!byOwner.has(who)) byOwner.set(who, []);
    byOwner.get(who)!.push(paceOf(c));
  }
  ownersMemo.set(state, out);
  return out;
}
const ownersMemo = new WeakMap<LedgerState, Map<string, Map<string, number[]>>>();

/** Why the run was off pace (the reason it is run again), or null when it was at pace or carries no calibration. */
/** `history.classPace`: the usual pace of each owner of the class (paceHistory); `ownPace`: the run's owner's recent paces. */
export function offPace(cal: Calibration | null | undefined, history: { cls: string; classPace: number[]; ownPace: number[] }, tolerance: number): string | null {
  if (!cal) return null;
  const { before_gflops: before, after_gflops: after } = cal;
  if (after > 0 && after < before * (1 - tolerance)) {
    return `off pace: the calibration workload ran at ${g(after)} GFLOP/s after training, ${pct(1 - after / before)} below the ${g(before)} before (the machine was loaded or throttled during the run)`;
  }
  const pace = paceOf(cal);
  const checks = [
    [`${history.cls}'s usual`, history.classPace, MIN_OWNERS, 'owners', lowerMedian],
    ['its owner\'s usual', history.ownPace, MIN_HISTORY, 'runs', median],
  ] as const;
  for (const [who, xs, min, of, mid] of checks) {
    if (xs.length < min) continue;
    const usual = mid(xs);
    if (pace < usual * (1 - tolerance)) return `off pace: the calibration workload ran at ${g(pace)} GFLOP/s, ${pct(1 - pace / usual)} below ${who} ${g(usual)} (median of ${xs.length} ${of})`;
  }
  return null;
}

/**
 * The floor of each class and workload with a usual pace (MIN_OWNERS owners' calibrations): the
 * lower median of its owners' usual paces less `tolerance`, the line below which offPace refuses a result,
 * so a job given back is one the App would have refused after training. 4 significant digits (the
 * dispatch input is short).
 */
export function paceFloors(state: LedgerState, tolerance: number): PaceFloors {
  let byTol = floorsMemo.get(state);
  if (!byTol) floorsMemo.set(state, (byTol = new Map()));
  const hit = byTol.get(tolerance);
  if (hit) return hit;
  const out: PaceFloors = {};
  for (const [key, byOwner] of [...owners(state)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (byOwner.size < MIN_OWNERS) continue;
    const [cls, workload] = key.split('\0');
    const floor = Number((lowerMedian([...byOwner.values()].map((xs) => median(xs.slice(-HISTORY)))) * (1 - tolerance)).toPrecision(4));
    if (floor > 0) (out[cls] ??= {})[workload] = floor;
  }
  byTol.set(tolerance, out);
  return out;
}
const floorsMemo = new WeakMap<LedgerState, Map<number, PaceFloors>>();

/**
 * A result's pre-flight block against the floors its dispatch sent: a floor other than the one sent
 * for its class and workload is made up (forged, like any input other than the dispatch's); an
 * off_pace result that passes is the reason it runs again elsewhere. Null: no pre-flight to judge.
 */
export function givenBack(r: ExperimentResult, sent: PaceFloors | undefined): { reason: string; forged: boolean } | null {
  const p = r.preflight;
  if (!p) return null;
  const floor = floorFor(sent, r.hardware_class, p.workload);
  if (floor !== p.floor_gflops) {
    return { reason: `preflight floor ${g(p.floor_gflops)} GFLOP/s is not the floor ${floor === null ? '(none)' : g(floor)} the App sent for ${shown(r.hardware_class)} (${shown(p.workload)})`, forged: true };
  }
  if (r.status !== 'off_pace') return null;
  return {
    reason: `off pace before training: the calibration workload ran at ${g(p.gflops)} GFLOP/s, ${pct(1 - p.gflops / floor)} below the floor of ${g(floor)} for ${shown(r.hardware_class)}; the job was given back after ${Math.round(r.total_seconds)} s without training`,
    forged: false,
  };
}

/**
 * Whether `login` keeps giving jobs back: `limit` or more give-backs (off_pace results, or results
 * refused or reporting a harness error: a job handed back unscored costs its owner as little) in the
 * `windowMs` before `now`, and more of them than results of any other kind. Such an owner gets no
 * new runner (app/routes/runners.ts) until its oldest give-back leaves the window: a busy machine
 * waits until it may be quiet again, and no owner bounces work for ever. Null: it may take jobs.
 */
export function givingBack(entries: Iterable<LedgerEntry>, login: string, now: Date, limit: number, windowMs = 3_600_000): { count: number; retryAfterSeconds: number; unscored?: number } | null {
  const who = login.toLowerCase();
  const since = now.getTime() - windowMs;
  const back: number[] = [];
  let other = 0;
  let unscored = 0;
  for (const e of entries) {
    if (e.type !== 'result_recorded') continue;
    const d = e.data as EntryDataOf<'result_recorded'>;
    const t = Date.parse(e.time);
    if (d.runner_owner?.toLowerCase() !== who || !(t > since)) continue;
    // off pace before training, or any other job handed back with nothing to score (app/policy/refusals.ts)
    if (d.result?.status === 'off_pace' || refusal(d)) back.push(t);
    else other++;
    if (d.result?.status !== 'off_pace' && !d.reason?.startsWith('off pace') && refusal(d)) unscored++;
  }
  if (back.length < limit || back.length <= other) return null;
  return { count: back.length, retryAfterSeconds: Math.max(1, Math.ceil((Math.min(...back) + windowMs - now.getTime()) / 1000)), ...(unscored ? { unscored } : {}) };
}

/** The usual pace of each owner of `cls` on `workload` (the class's usual pace is their lower median), and `owner`'s recent paces. */
export function paceHistory(state: LedgerState, cls: string, workload: string, owner: string | null): { cls: string; classPace: number[]; ownPace: number[] } {
  const byOwner = owners(state).get(`${cls}\0${workload}`) ?? new Map<string, number[]>();
  return {
    cls,
    classPace: [...byOwner.values()].map((xs) => median(xs.slice(-HISTORY))),
    ownPace: owner ? (byOwner.get(owner.toLowerCase()) ?? []).slice(-HISTORY) : [],
  };
}
