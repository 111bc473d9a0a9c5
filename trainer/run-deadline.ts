// How long a run may take, from the dispatch alone (its budget, and whether it replays a
// schedule): the harness ends every run by then itself, with a result that says the candidate
// failed. A job that leaves no result (GitHub cancelled it at timeout-minutes, the Action's
// backstop killed the harness) is nobody's fault and runs again on another owner's runner, so a
// candidate that could outlast these bounds when its loss looked bad (it can compute its own loss
// on the windows it is given) re-rolled its run until a lucky draw. Hence three nested bounds:
// the harness's deadline < the Action's backstop < the job's timeout-minutes, for every role and
// budget the App dispatches (test/workflows/deadlines.test.ts checks experiment.yml's tiers).
import type { ChildChannel } from './child-channel.js';
import { RunFailure } from './run-failure.js';

/** a replay may take this many budgets (plus the stop allowance) before it fails as too slow */
export const REPLAY_CAP_FACTOR = 3;

export interface DeadlineLimits {
  /** spawn -> hello of the train child (harness code: backend load, calibration) */
  backendSeconds: number;
  /** the most the end of training (the step in flight, the checkpoint) may add */
  stopSeconds: number;
  /** evaluation (both passes: their children's setup and forward passes) gets at least this */
  evalFloorSeconds: number;
  /** ... or this share of the training span, if more: forward passes cost a fraction of the steps trained */
  evalShare: number;
}

export const DEFAULT_DEADLINE_LIMITS: DeadlineLimits = { backendSeconds: 180, stopSeconds: 60, evalFloorSeconds: 240, evalShare: 0.5 };

/** Seconds from the train child's spawn to the run's end, candidate time included: later, the run is the candidate's timeout. */
export function runDeadlineSeconds(budgetSeconds: number, replay: boolean, limits: DeadlineLimits = DEFAULT_DEADLINE_LIMITS): number {
  const train = budgetSeconds * (replay ? REPLAY_CAP_FACTOR : 1);
  return limits.backendSeconds + train + limits.stopSeconds + Math.max(limits.evalFloorSeconds, limits.evalShare * train);
}

/** The harness's own work around the candidate's: data loading and checks before, references and the result after. */
export const HARNESS_OVERHEAD_SECONDS = 300;

/** The Action kills a harness that has not exited by then (a wedged harness, never a slow candidate: the harness's deadline comes first). */
export function backstopSeconds(budgetSeconds: number, replay: boolean): number {
  return runDeadlineSeconds(budgetSeconds, replay) + HARNESS_OVERHEAD_SECONDS;
}

/** What the job needs before the harness starts (checkout, npm ci, the trainer image) and after it (the upload). */
export const JOB_SETUP_SECONDS = 600;

/** The least timeout-minutes a job of this budget and kind needs: GitHub cancels the job (no result, a re-run) only after the Action's backstop. */
export function minJobTimeoutMinutes(budgetSeconds: number, replay: boolean): number {
  return Math.ceil((backstopSeconds(budgetSeconds, replay) + JOB_SETUP_SECONDS) / 60);
}

/**
 * The supervisor's watchdog: at `seconds` after it is armed it kills every live child with a
 * timeout, so whatever a child does (stall, spin, hang after printing) the run ends with the
 * candidate's failure; a child launched after that fails at once (`check`).
 */
export class RunDeadline {
  readonly message: string;
  private expired = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly seconds: number,
    what: string,
    live: readonly ChildChannel[],
  ) {
    this.message = `the run did not finish within ${seconds.toFixed(0)}s of the candidate's start, the most ${what} may take (training, its stop and evaluation): the candidate stalled or ran too slowly.`;
    this.timer = setTimeout(() => {
      this.expired = true;
      for (const c of live) c.kill('timeout', this.message);
    }, seconds * 1000);
  }

  check(): void {
    if (this.expired) throw new RunFailure('timeout', this.message);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
