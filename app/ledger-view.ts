// What the App needs to know from the ledger, folded from its entries. Pure.
import { LedgerState, type EntryDataOf, type LedgerEntry } from '../ledger/index.js';
import type { BaselineRun } from './policy/baseline.js';
import { longRunIssue } from './policy/long-run.js';

export type Dispatched = EntryDataOf<'job_dispatched'> & { time: string };
export type Queued = EntryDataOf<'experiment_queued'> & { time: string };

export interface LedgerView {
  entries: LedgerEntry[];
  state: LedgerState;
  jobs: Map<string, Dispatched>;
  /** dispatched jobs without a result_recorded entry */
  open: Dispatched[];
  /** runner_name -> its registration (owner, class, how, the owner's account age) */
  registry: Map<string, EntryDataOf<'runner_registered'>>;
  baselineRuns: BaselineRun[];
  /** latest baseline_recorded per `${class}@${sha}` */
  baselines: Map<string, EntryDataOf<'baseline_recorded'>>;
  /** `${pr}@${sha}` of PR commits already merged or discarded */
  decided: Set<string>;
  /** job_id -> issue number of long runs (paid from a balance through a long-run issue) */
  longRuns: Map<string, number>;
  /** PR number -> its commit waiting to run (the App's queue, oldest entry first) */
  queue: Map<number, Queued>;
}

export const classAt = (hardwareClass: string, sha: string) => `${hardwareClass}@${sha}`;

export function viewOf(entries: LedgerEntry[]): LedgerView {
  const state = LedgerState.of(entries);
  const jobs = new Map<string, Dispatched>();
  const registry = new Map<string, EntryDataOf<'runner_registered'>>();
  const baselines = new Map<string, EntryDataOf<'baseline_recorded'>>();
  const decided = new Set<string>();
  const longRuns = new Map<string, number>();
  for (const e of entries) {
    if (e.type === 'job_dispatched') {
      const d = (e as LedgerEntry<'job_dispatched'>).data;
      jobs.set(d.job_id, { ...d, time: e.time });
    } else if (e.type === 'runner_registered') {
      const d = (e as LedgerEntry<'runner_registered'>).data;
      registry.set(d.runner_name, d);
    } else if (e.type === 'baseline_recorded') {
      const d = (e as LedgerEntry<'baseline_recorded'>).data;
      baselines.set(classAt(d.hardware_class, d.sha), d);
    } else if (e.type === 'experiment_merged' || e.type === 'experiment_discarded') {
      const d = e.data as { pr: number; sha: string };
      decided.add(`${d.pr}@${d.sha}`);
    } else if (e.type === 'credit_spent') {
      const d = (e as LedgerEntry<'credit_spent'>).data;
      const issue = longRunIssue(d.reason);
      if (issue !== null) longRuns.set(d.job_id, issue);
    }
  }
  const queue = new Map<number, Queued>();
  for (const e of entries) {
    if (e.type === 'experiment_queued') {
      const d = (e as LedgerEntry<'experiment_queued'>).data;
      queue.delete(d.pr); // re-queued: its place is by the new time
      queue.set(d.pr, { ...d, time: e.time });
    } else if (e.type === 'job_dispatched') {
      // a candidate job of the PR (any commit: a newer push supersedes) takes it off the queue
      const d = (e as LedgerEntry<'job_dispatched'>).data;
      if (d.pr !== null && d.role === 'candidate' && !longRuns.has(d.job_id)) queue.delete(d.pr);
    } else if (e.type === 'experiment_dequeued' || e.type === 'experiment_merged' || e.type === 'experiment_discarded') {
      const d = e.data as { pr: number; sha: string };
      if (queue.get(d.pr)?.sha === d.sha) queue.delete(d.pr);
    }
  }
  const baselineRuns: BaselineRun[] = [];
  for (const { data: r } of state.results.values()) {
    // a long run of the default branch trains for another budget: its score is no baseline
    if (r.role !== 'baseline' || longRuns.has(r.job_id) || !r.validated || !r.result || r.result.status !== 'ok' || r.result.val_bpb === null) continue;
    baselineRuns.push({ hardware_class: r.result.hardware_class, sha: r.sha, val_bpb: r.result.val_bpb, tokens_per_second: r.result.tokens_per_second, job_id: r.job_id, owner: r.runner_owner });
  }
  const open = [...jobs.values()].filter((j) => !state.results.has(j.job_id));
  return { entries, state, jobs, open, registry, baselineRuns, baselines, decided, longRuns, queue };
}

/** Queued commits that may run now (not waiting for a baseline that is still missing), oldest first. */
export function readyQueue(view: LedgerView): Queued[] {
  return [...view.queue.values()].filter((q) => !q.waiting_for || view.baselines.has(classAt(q.waiting_for.hardware_class, q.waiting_for.sha)));
}

/**
 * Results whose credit is due now. Candidate results wait until their PR commit is decided;
 * under a trust policy every result also waits until another owner's run agreed with it (a
 * trusted owner's candidate unless the spot check drew it), which the ledger enforces
 * (ledger/trust.ts). Long runs claim nothing and are due at once. Grants for classes without a
 * baseline stay pending.
 */
export function grantsDue(view: LedgerView): NonNullable<ReturnType<LedgerState['creditFor']>>[] {
  const out: NonNullable<ReturnType<LedgerState['creditFor']>>[] = [];
  for (const [jobId, { data: r }] of view.state.results) {
    if (!r.validated || !r.result || r.result.failure?.kind === 'harness_error') continue;
    if (r.role === 'candidate' && !view.longRuns.has(jobId) && !view.decided.has(`${r.pr}@${r.sha}`)) continue;
    const g = view.state.creditFor(jobId);
    if (g) out.push(g);
  }
  return out;
}
