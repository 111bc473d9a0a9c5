// Runs an owner handed back with nothing the App can score: a result refused at intake (no or an
// unreadable artifact, a wrong class, an off-pace give-back, a forgery) or a harness error. Such a
// run costs its owner nothing but the minutes (no fault unless it is a forgery, no credit), and
// before this rule it used up one of the job's attempts: one owner whose runners took an honest
// PR's run each time it was dispatched again (GitHub hands a job to whichever idle runner has its
// labels) got the PR given up after max_attempts, nobody faulted (test/app/red-team-bounce.test.ts).
// Now each owner's first refusal of a job is not one of its attempts, and the next attempt goes to
// a runner of an owner who has not refused it. Pure over the ledger view.
import type { LedgerView, Dispatched } from '../ledger-view.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { shown } from './shown.js';

/** Whether a checked (or recorded) result scores nothing through its runner's doing: refused, or a harness error. */
export function refusal(checked: { validated: boolean; result: ExperimentResult | null }): boolean {
  return checked.validated === false || (!!checked.result && checked.result.status !== 'ok' && checked.result.failure?.kind === 'harness_error');
}

/** Why a refusal scores nothing, in one line. */
export function refusalReason(checked: { reason: string | null; result: ExperimentResult | null }): string {
  return checked.reason ?? (checked.result?.failure ? `the harness failed on the runner: ${shown(checked.result.failure.message)}` : 'the result could not be validated');
}

/**
 * The owners (lowercase, `owner` among them) whose runs of `job`'s chain (its PR commit, role,
 * budget, the claim it verifies, whether it is a replay) were refusals: each one's first refusal
 * of a job is not one of its attempts, and the next attempt avoids them all. A job still gives up
 * after max_attempts more (a class of owners whose runs all fail), so the attempts stay bounded by
 * the number of owners plus max_attempts.
 */
export function refusedBy(view: LedgerView, job: Dispatched, owner: string): string[] {
  const out = new Set([owner.toLowerCase()]);
  for (const { data: d } of view.state.results.values()) {
    if (!d.runner_owner || !refusal(d) || d.pr !== job.pr || d.sha !== job.sha || d.role !== job.role) continue;
    const j = view.jobs.get(d.job_id);
    if (!j || (j.verifies ?? null) !== (job.verifies ?? null) || j.hardware_class !== job.hardware_class || j.budget_seconds !== job.budget_seconds || !!j.replay !== !!job.replay) continue;
    out.add(d.runner_owner.toLowerCase());
  }
  return [...out];
}
