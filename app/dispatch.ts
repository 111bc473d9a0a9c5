// Dispatching experiment runs: ledger first (so the job is known before any result can
// arrive), then one workflow_dispatch per job on the default branch, whose workflow file and
// harness are trusted.
// read at call time (crypto.randomInt), so the simulator can seed it: see sim/determinism.ts
import crypto from 'node:crypto';
import { type EntryDataOf, type LedgerEntry, type NewEntry } from '../ledger/index.js';
import type { Role } from '../trainer/result.js';
import { pinsInput } from './data-pins.js';
import { jobRefs, newJobId } from './jobs.js';
import { paceFloorsInput, type PaceFloors } from '../trainer/pace-floors.js';
import { viewOf, type Dispatched } from './ledger-view.js';
import { paceFloors } from './policy/pace.js';
import { OWNER_LABEL_PREFIX } from './policy/runners.js';
import type { Payment } from './policy/payment.js';
import { appendBuilt, type Session } from './session.js';

/** Label any runner of the swarm takes. */
export const ANY_RUNNER = 'autoresearch';

export interface NewJob {
  role: Role;
  pr: number | null;
  sha: string;
  /** who pays; null for swarm-paid runs (baselines, verifications, re-dispatches) */
  author: string | null;
  hardware_class: string | null;
  runner_label: string;
  attempt: number;
  verifies: string | null;
  check: number | null;
  comment: number | null;
  /** the PR has no sticky comment yet (opened and dispatched at once): the result creates it */
  newComment?: boolean;
  /** the PR's title and author, recorded so scoring needs no look-up */
  title?: string | null;
  pr_author?: string | null;
  /** the GitHub account id of `author`, when known: free-tier runs are counted per account (ledger/credits.ts) */
  author_id?: number;
  pay: Payment;
  /** training budget, seconds: the configured experiment budget unless given (long runs) */
  budget_seconds?: number;
  /** baselines: the most runs of this class and commit, recorded or open (default `baseline_runs`) */
  cap?: number;
  /**
   * A replay (docs/trust.md, "Replays"): the replayed run's training seed, eval seed and progress
   * schedule, given to the run instead of fresh seeds. Null or absent: a run on the clock.
   */
  replay?: ReplaySpec | null;
}

/** What a replay repeats of the run it replays (its budget travels as the job's budget_seconds). */
export interface ReplaySpec {
  schedule: string;
  seed: number;
  eval_seed: number;
}

/**
 * Appends the jobs (and `extra` entries, e.g. the result that led to them) in one ledger
 * commit, then dispatches them. `extra` may be built from the chain being appended to; when it
 * builds nothing (another App process already recorded this), nothing is appended or dispatched
 * and null is returned.
 */
export async function dispatchJobs(
  s: Session,
  jobs: NewJob[],
  extra: NewEntry[] | ((entries: LedgerEntry[]) => NewEntry[] | null) = [],
  files: Record<string, string> = {},
  current: LedgerEntry[] = [],
): Promise<string[] | null> {
  const ids = jobs.map((j) => newJobId({ check: j.check, comment: j.comment, newComment: j.newComment }));
  // a fresh training seed per run: a re-run does not reproduce a lucky seed (docs/trust.md); a
  // replay repeats the seeds of the run it replays
  const seeds = jobs.map((j) => j.replay?.eval_seed ?? crypto.randomInt(2 ** 31 - 1));
  const trainSeeds = jobs.map((j) => j.replay?.seed ?? crypto.randomInt(2 ** 31 - 1));
  const own: NewEntry[] = [];
  jobs.forEach((j, i) => {
    own.push({
      type: 'job_dispatched',
      data: {
        job_id: ids[i],
        role: j.role,
        repo: s.fullName,
        pr: j.pr,
        sha: j.sha,
        author: j.author,
        hardware_class: j.hardware_class,
        eval_seed: seeds[i],
        seed: trainSeeds[i],
        budget_seconds: j.budget_seconds ?? s.cfg.config.budget_seconds,
        attempt: j.attempt,
        verifies: j.verifies,
        ...(j.title !== undefined ? { title: j.title } : {}),
        ...(j.pr_author !== undefined ? { pr_author: j.pr_author } : {}),
        ...(j.author && j.author_id !== undefined ? { author_id: j.author_id } : {}),
        ...(s.seal ? { seal_key: s.seal.publicKey } : {}),
        ...(j.replay ? { replay: j.replay.schedule } : {}),
        runner_label: j.runner_label,
      },
    });
    if (j.author && j.pay) {
      own.push({ type: 'credit_spent', data: { login: j.author, amount: j.pay.amount, job_id: ids[i], reason: j.pay.reason === 'experiment' ? `experiment on PR #${j.pr}` : j.pay.reason } });
    }
  });
  let skipped = false;
  let kept: number[] = [];
  // the pre-flight floors of the classes, from the chain really appended to (app/policy/pace.ts)
  let floors: PaceFloors = {};
  const build = (chain: LedgerEntry[]) => {
    const first = typeof extra === 'function' ? extra(chain) : extra;
    skipped = first === null;
    if (first === null) return [];
    floors = paceFloors(viewOf(chain).state, s.cfg.config.trust.pace_tolerance);
    const withFloors = (e: NewEntry) => (e.type === 'job_dispatched' && Object.keys(floors).length ? { ...e, data: { ...e.data, pace_floors: floors } } : e);
    // Idempotent per (PR, commit, role): a job already open on the chain really appended to (a
    // second process, or a redelivery to a process with a stale view, got there first) is not
    // dispatched or charged again; baselines of a class and commit up to the configured count.
    kept = stillNeeded(chain, first, jobs, s.cfg.config.baseline_runs, s.cfg.config.budget_seconds);
    const ids_ = new Set(kept.map((i) => ids[i]));
    return [...first, ...own.filter((e) => ids_.has((e.data as { job_id: string }).job_id)).map(withFloors)];
  };
  await appendBuilt(s, current, build, files);
  if (skipped) return null;
  for (const i of kept) {
    const j = jobs[i];
    const seal = s.seal ? { seal_key: s.seal.publicKey } : {};
    await sendDispatch(s, { job_id: ids[i], pr: j.pr, sha: j.sha, role: j.role, eval_seed: seeds[i], seed: trainSeeds[i], budget_seconds: j.budget_seconds ?? s.cfg.config.budget_seconds, ...seal, ...(j.replay ? { replay: j.replay.schedule } : {}), pace_floors: floors }, j.runner_label);
  }
  return kept.map((i) => ids[i]);
}

/** The workflow_dispatch of a job recorded in the ledger (also what the reconcile pass sends again when it was lost). */
export async function sendDispatch(s: Session, job: Pick<EntryDataOf<'job_dispatched'>, 'job_id' | 'pr' | 'sha' | 'role' | 'eval_seed' | 'seed' | 'budget_seconds' | 'seal_key' | 'replay' | 'pace_floors'>, runnerLabel: string): Promise<void> {
  await s.octokit.rest.actions.createWorkflowDispatch({
    ...s.repo,
    workflow_id: s.cfg.config.workflow,
    // the full ref: a tag named like the default branch would otherwise be ambiguous, and GitHub may run its workflow file
    ref: `refs/heads/${s.defaultBranch}`,
    inputs: {
      pr: job.pr === null ? '' : String(job.pr),
      sha: job.sha,
      role: job.role,
      nonce: job.job_id,
      eval_seed: String(job.eval_seed),
      ...(job.seed !== undefined ? { seed: String(job.seed) } : {}),
      budget: String(job.budget_seconds),
      runner_label: runnerLabel,
      ...pinsInput(s.cfg.config),
      // the contract of docs/trust.md "Replays": '' for a run on the clock, '' for no seal key
      replay: job.replay ?? '',
      seal_key: job.seal_key ?? '',
      // the pre-flight floors (docs/trust.md, "Load is noise"); not sent when there are none (the workflow's default '')
      ...(paceFloorsInput(job.pace_floors) ? { pace_floors: paceFloorsInput(job.pace_floors) } : {}),
    },
  });
}

/**
 * Which of `jobs` (indices) are still needed on `chain` plus the entries `first` appends before
 * them: none whose PR commit and role already has an open job of the same budget, no replay of a
 * run that has one open or that a replay verdict settled, and baselines of a class and commit only
 * up to `baselineRuns` recorded or open.
 */
function stillNeeded(chain: LedgerEntry[], first: NewEntry[], jobs: NewJob[], baselineRuns: number, budget: number): number[] {
  const open = new Map<string, number>();
  // a replay is keyed by the run it replays: a PR's verify chain and the replays of its runs (or of baseline runs) are open side by side
  const jobKey = (d: { role: string; pr: number | null; sha: string; hardware_class: string | null; budget_seconds?: number; verifies?: string | null; replay?: unknown }) =>
    d.replay && d.verifies ? `replay of ${d.verifies}` : d.role === 'baseline' ? `baseline ${d.hardware_class}@${d.sha} ${d.budget_seconds ?? ''}` : `${d.role} #${d.pr}@${d.sha} ${d.budget_seconds ?? ''}`;
  const keyOf = new Map<string, string>();
  const recordedBaselines = new Map<string, number>();
  // runs a replay verdict settled: a replay of one is never needed again (a second process whose
  // view predated the verdict sent one twenty seconds after it, the fault run, seed 3, fault seed 24)
  const judged = new Set<string>();
  for (const e of [...chain, ...first]) {
    if (e.type === 'replay_judged') judged.add((e.data as EntryDataOf<'replay_judged'>).job_id);
    if (e.type === 'job_dispatched') {
      const d = e.data as EntryDataOf<'job_dispatched'>;
      const k = jobKey(d);
      keyOf.set(d.job_id, k);
      open.set(k, (open.get(k) ?? 0) + 1);
    } else if (e.type === 'result_recorded') {
      const d = e.data as EntryDataOf<'result_recorded'>;
      const k = keyOf.get(d.job_id);
      if (!k) continue;
      keyOf.delete(d.job_id);
      open.set(k, (open.get(k) ?? 1) - 1);
      if (d.role === 'baseline' && d.validated && d.result?.status === 'ok') recordedBaselines.set(k, (recordedBaselines.get(k) ?? 0) + 1);
    }
  }
  const kept: number[] = [];
  jobs.forEach((j, i) => {
    if (j.replay && j.verifies && judged.has(j.verifies)) return;
    const k = jobKey({ role: j.role, pr: j.pr, sha: j.sha, hardware_class: j.hardware_class, budget_seconds: j.budget_seconds ?? budget, verifies: j.verifies, replay: j.replay });
    const have = (open.get(k) ?? 0) + (j.role === 'baseline' ? (recordedBaselines.get(k) ?? 0) : 0);
    if (have >= (j.role === 'baseline' ? (j.cap ?? baselineRuns) : 1)) return;
    open.set(k, (open.get(k) ?? 0) + 1);
    kept.push(i);
  });
  return kept;
}

type JobKey = { job_id: string; role: Role; pr: number | null; sha: string; author: string | null };

/** A result_recorded entry for a job: rejected with no result unless `fields` say otherwise. */
export function resultEntry(job: JobKey, fields: Partial<EntryDataOf<'result_recorded'>>): NewEntry<'result_recorded'> {
  return {
    type: 'result_recorded',
    data: {
      job_id: job.job_id,
      role: job.role,
      pr: job.pr,
      sha: job.sha,
      title: null,
      author: job.author,
      runner_name: null,
      runner_owner: null,
      run_url: null,
      validated: false,
      reason: null,
      result: null,
      diff_path: null,
      diff_sha256: null,
      log_excerpt: null,
      ...fields,
    },
  };
}

/** The entry that closes a job that will never be scored (superseded, overdue, given up). */
export function closeJob(job: JobKey, reason: string): NewEntry<'result_recorded'> {
  return resultEntry(job, { reason });
}

/**
 * The same job dispatched again (next attempt), paid by the swarm, reusing its check run and
 * comment, on the class it was sent to (before, a PR sent to another class went to any runner). A comment the first job was to create is looked up by the rerun (it may exist by then).
 */
export function rerun(job: Dispatched, overrides: Partial<NewJob> = {}): NewJob {
  const refs = jobRefs(job.job_id);
  return {
    role: job.role,
    pr: job.pr,
    sha: job.sha,
    author: null,
    hardware_class: job.hardware_class,
    // the class it was sent to (a PR run on another class: app/waiting.ts), never one owner's label
    runner_label: job.hardware_class ?? (job.runner_label && !job.runner_label.startsWith(OWNER_LABEL_PREFIX) ? job.runner_label : ANY_RUNNER),
    attempt: job.attempt + 1,
    verifies: job.verifies,
    check: refs.check,
    comment: refs.comment,
    pay: null,
    budget_seconds: job.budget_seconds,
    ...(job.title !== undefined ? { title: job.title } : {}),
    ...(job.pr_author !== undefined ? { pr_author: job.pr_author } : {}),
    // the same job again is the same replay (its seeds and schedule); `overrides` may make it a run on the clock
    replay: replaySpecOf(job),
    ...overrides,
  };
}

/** The replay a dispatched job was, or null for a run on the clock. */
export function replaySpecOf(job: Pick<Dispatched, 'replay' | 'seed' | 'eval_seed'>): ReplaySpec | null {
  return job.replay && job.seed !== undefined ? { schedule: job.replay, seed: job.seed, eval_seed: job.eval_seed } : null;
}
