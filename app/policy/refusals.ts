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
import { runsOf } from './replication.js';
import { OWNER_LABEL_PREFIX } from './runners.js';

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
    if (!refusal(d) || d.pr !== job.pr || d.sha !== job.sha || d.role !== job.role) continue;
    const j = view.jobs.get(d.job_id);
    if (!j || (j.verifies ?? null) !== (job.verifies ?? null) || j.hardware_class !== job.hardware_class || j.budget_seconds !== job.budget_seconds || !!j.replay !== !!job.replay) continue;
    const by = d.runner_owner ?? stalledBy(view, j, d.reason);
    if (by) out.add(by.toLowerCase());
  }
  return [...out];
}

/** How the close of a run no runner took begins (app/scheduler.ts): queued past the limit, or waiting for a banned owner. */
export const NOT_TAKEN = 'no runner took its run';

/**
 * The owner a closed run of the chain waited for alone (see waitedOn): remembered for the whole
 * chain, not only its next attempt. Before, a stall was avoided once: when a holder's hold came
 * next, the attempt after it went back to the staller (test/app/red-team-hold.test.ts).
 */
function stalledBy(view: LedgerView, j: Dispatched, reason: string | null | undefined): string | null {
  if (!reason?.startsWith(NOT_TAKEN) || view.started.has(j.job_id) || !j.runner_label?.startsWith(OWNER_LABEL_PREFIX)) return null;
  return j.runner_label.slice(OWNER_LABEL_PREFIX.length);
}

/**
 * The owner who held `job` (closed past its deadline, counted from its run's start): the owner of
 * the registered runner its recorded start names (app/starts.ts: the workflow_job event, or the
 * tick's look at a run in progress past its deadline); null when none is recorded or registered.
 * A held run (a runner asleep, a job kept in progress) costs its owner nothing but the slot, as a
 * bounce does, and before this rule each hold used up one of the job's attempts and the job ran
 * again on the same labels: one owner's idle runner took and held an honest PR's run each time
 * and got it given up after max_attempts, each attempt a deadline late, nobody faulted
 * (test/app/red-team-hold.test.ts). A hold is a refusal: recorded as its owner's refused run (so
 * later refusedBy, the side replays' exclusions and the runner route's give_backs_per_hour count
 * it), each owner's first refusal of the job is not one of its attempts (an honest machine that
 * died mid-run costs the PR nothing, and the attempts stay bounded by the owners plus
 * max_attempts), and the next attempt avoids `avoid`: every owner who refused or held it, and those
 * who may not run it (a verify run's claim owner, replicas' owners and author; a replay's).
 */
export function heldBy(view: LedgerView, job: Dispatched): Refuser | null {
  const start = view.started.get(job.job_id);
  const reg = start ? view.registry.get(start.runner_name) : undefined;
  return start && reg ? refuser(view, job, reg.owner, start.runner_name, job.hardware_class ?? reg.hardware_class) : null;
}

/**
 * The owner a run closed past the queue limit waited for alone: the one whose owner label it was
 * sent to, and whose runners never took it (gone offline, or kept busy, after the App chose them).
 * One owner holding a PR's runs and another stalling the run sent to her got it given up after
 * max_attempts (test/app/red-team-hold.test.ts): such a run is a refusal for the job's attempts
 * and its next attempt as a hold is. It is not recorded as her refused run (no runner of hers ran
 * it), so it does not count toward give_backs_per_hour: the App sends runs to an offline owner's
 * label when every runner of the class is offline, and an honest owner coming back would be barred.
 */
export function waitedOn(view: LedgerView, job: Dispatched): Refuser | null {
  if (!job.runner_label?.startsWith(OWNER_LABEL_PREFIX) || view.started.has(job.job_id)) return null;
  const owner = job.runner_label.slice(OWNER_LABEL_PREFIX.length);
  const reg = [...view.registry.values()].find((r) => r.owner.toLowerCase() === owner.toLowerCase());
  return refuser(view, job, owner, null, job.hardware_class ?? reg?.hardware_class ?? null);
}

/** An owner who refused a job, and what follows: `refused`, every owner who refused it (the job's attempts less these are counted); `avoid`, those its next attempt avoids. */
export interface Refuser {
  owner: string;
  /** the runner that held it (then it is recorded as the owner's refused run), or null */
  runner_name: string | null;
  /** the class its next attempt runs on, or null: on its labels as before */
  hardware_class: string | null;
  refused: string[];
  avoid: string[];
}

function refuser(view: LedgerView, job: Dispatched, owner: string, runner_name: string | null, hardware_class: string | null): Refuser {
  const refused = refusedBy(view, job, owner);
  return { owner, runner_name, hardware_class, refused, avoid: [...new Set([...refused, ...notToRun(view, job)])] };
}

/**
 * Owners who may not run `job` whatever they did: for a verify run, the claim's owner, the owners
 * of the claim's counted runs and the PR's author; for a replay, the replayed run's owner, its
 * earlier replayers and the author (policy/replays.ts notIndependent).
 */
function notToRun(view: LedgerView, job: Dispatched): string[] {
  if (!job.verifies) return [];
  const prior = job.replay ? (view.state.trust.replayJobs.get(job.verifies) ?? []) : runsOf(view.state, view.jobs, job.verifies).replicas.map((r) => r.job_id);
  const owners = [job.verifies, ...prior].map((id) => view.state.results.get(id)?.data.runner_owner);
  return [...new Set([...owners, job.pr_author ?? job.author].filter((o): o is string => !!o).map((o) => o.toLowerCase()))];
}
