// What the App needs to know from the ledger, folded from its entries. Pure (a cache of recent folds aside).
import { LedgerState, type EntryDataOf, type LedgerEntry } from '../ledger/index.js';
import type { BaselineRun } from './policy/baseline.js';
import { longRunIssue } from './policy/long-run.js';

export type Dispatched = EntryDataOf<'job_dispatched'> & { time: string };
export type Queued = EntryDataOf<'experiment_queued'> & { time: string };
export type Started = EntryDataOf<'job_started'> & { time: string };

export interface LedgerView {
  entries: LedgerEntry[];
  state: LedgerState;
  jobs: Map<string, Dispatched>;
  /** dispatched jobs without a result_recorded entry */
  open: Dispatched[];
  /** job_id -> when a runner took its run, where it was not right after the dispatch (job_started) */
  started: Map<string, Started>;
  /** runner_name -> its registration (owner, class, how, the owner's account age) */
  registry: Map<string, EntryDataOf<'runner_registered'>>;
  /** validated, scored baseline runs, then the runs merges name as samples of their commit's baseline (`reused`) */
  baselineRuns: BaselineRun[];
  /** latest baseline_recorded per `${class}@${sha}` */
  baselines: Map<string, EntryDataOf<'baseline_recorded'>>;
  /** `${pr}@${sha}` of PR commits already merged or discarded */
  decided: Set<string>;
  /** `${pr}@${sha}` -> seq of the commit's latest verdict (merged, discarded, outdated): a first run recorded before it is due */
  decidedSeq: Map<string, number>;
  /** `${pr}@${sha}` -> seq of the latest close of the commit's PR that ended its claim or one of its jobs (closedReason): a first run recorded before it is due once another owner's run agreed with it */
  closedSeq: Map<string, number>;
  /** job_id -> issue number of long runs (paid from a balance through a long-run issue) */
  longRuns: Map<string, number>;
  /** PR number -> its commit waiting to run (the App's queue, oldest entry first) */
  queue: Map<number, Queued>;
  /** job ids of recorded results with no credit_granted or credit_reversed entry, in the order of their first results */
  ungranted: Set<string>;
}

export const classAt = (hardwareClass: string, sha: string) => `${hardwareClass}@${sha}`;

/** The reason recorded for a job or claim a close of PR `pr` ended (app/heads.ts). */
export const closedReason = (pr: number) => `PR #${pr} was closed`;

/**
 * The view of a chain. Equal to folding `entries` from the start, but built incrementally: the
 * App asks for a view after every append (and of chains it is about to append), so folding the
 * whole ledger each time made every event cost O(ledger) and a long run quadratic. The last few
 * views are kept (per process); a chain that extends one of them, entry for entry (the same
 * entry objects, as the ledger store hands out and appendEntries makes), is folded on from it, and
 * the same chain again is the same view. Anything else (another writer's entries read afresh, a
 * rewritten chain: the store checks the chain before it hands out entries) is folded from seq 0.
 * A view is shared between callers: read it, never change it (its `entries` are frozen).
 */
export function viewOf(entries: LedgerEntry[]): LedgerView {
  if (!caching) return new Fold().extend(entries).seal();
  let base: Fold | null = null;
  for (const f of [...recent].sort((a, b) => b.entries.length - a.entries.length)) {
    if (f.entries.length <= entries.length && extends_(entries, f.entries)) {
      base = f;
      break;
    }
  }
  let fold: Fold;
  if (base && base.entries.length === entries.length) fold = base;
  else {
    fold = (base ? base.clone() : new Fold()).extend(entries);
    fold.seal();
  }
  const at = recent.indexOf(fold);
  if (at >= 0) recent.splice(at, 1);
  recent.unshift(fold);
  recent.length = Math.min(recent.length, KEEP);
  return fold.view!;
}

/** Views kept for extension: the App's pattern is a few chains deep (read, simulate, append, read). */
const KEEP = 8;
const recent: Fold[] = [];
let caching = true;

/** Folds every view from seq 0 while off (tests compare the two ways); forgets the kept views. */
export function setViewCache(on: boolean): void {
  caching = on;
  recent.length = 0;
}

/** Whether `chain` starts with exactly the entry objects of `prefix` (checked from the end, where chains differ). */
function extends_(chain: LedgerEntry[], prefix: readonly LedgerEntry[]): boolean {
  for (let i = prefix.length - 1; i >= 0; i--) if (chain[i] !== prefix[i]) return false;
  return true;
}

/** A baseline run of a recorded result, or null when the result is none (see LedgerView.baselineRuns). */
function baselineRunOf(r: EntryDataOf<'result_recorded'>, longRuns: Map<string, number>): BaselineRun | null {
  // a long run of the default branch trains for another budget: its score is no baseline
  if (r.role !== 'baseline' || longRuns.has(r.job_id) || !r.validated || !r.result || r.result.status !== 'ok' || r.result.val_bpb === null) return null;
  return { hardware_class: r.result.hardware_class, sha: r.sha, val_bpb: r.result.val_bpb, tokens_per_second: r.result.tokens_per_second, job_id: r.job_id, owner: r.runner_owner };
}

/**
 * The view folded one entry at a time. Mutable until sealed; a sealed fold (and the view made of
 * its structures) never changes again, and is extended through a copy (clone).
 */
class Fold {
  entries: LedgerEntry[] = [];
  state = new LedgerState();
  jobs = new Map<string, Dispatched>();
  /** dispatched jobs without a result, in dispatch order */
  open = new Map<string, Dispatched>();
  started = new Map<string, Started>();
  registry = new Map<string, EntryDataOf<'runner_registered'>>();
  baselines = new Map<string, EntryDataOf<'baseline_recorded'>>();
  decided = new Set<string>();
  decidedSeq = new Map<string, number>();
  closedSeq = new Map<string, number>();
  longRuns = new Map<string, number>();
  queue = new Map<number, Queued>();
  /** baseline runs by job_id, in the order of the jobs' first results */
  baselineRuns = new Map<string, BaselineRun>();
  /** runs of merged claims named as samples of their merge commit's baseline (experiment_merged `baseline_job_ids`), by job_id */
  reused = new Map<string, BaselineRun>();
  ungranted = new Set<string>();
  /**
   * A job's place in the queue and among baseline runs can depend on entries after it: a long
   * run's payment recorded after its dispatch, a second result for one job. Then the structure
   * is rebuilt from the entries (never in the App's own ledgers, which pay before dispatching and
   * record one result per job).
   */
  private queueStale = false;
  private baselineRunsStale = false;
  /** in a clone, the maps and sets still shared with the fold it was cloned from: copied before their first change */
  private shared: WeakSet<object> | null = null;
  view: LedgerView | null = null;

  /** A fold to extend, sharing this one's structures until it changes them (this one is sealed: it never changes again). */
  clone(): Fold {
    const f = new Fold();
    f.entries = [...this.entries]; // (not slice(): ~100 times slower on a frozen array in V8)
    f.state = this.state.clone();
    f.jobs = this.jobs;
    f.open = this.open;
    f.started = this.started;
    f.registry = this.registry;
    f.baselines = this.baselines;
    f.decided = this.decided;
    f.decidedSeq = this.decidedSeq;
    f.closedSeq = this.closedSeq;
    f.longRuns = this.longRuns;
    f.queue = this.queue;
    f.baselineRuns = this.baselineRuns;
    f.reused = this.reused;
    f.ungranted = this.ungranted;
    f.shared = new WeakSet<object>([this.jobs, this.open, this.started, this.registry, this.baselines, this.decided, this.decidedSeq, this.closedSeq, this.longRuns, this.queue, this.baselineRuns, this.reused, this.ungranted]);
    f.queueStale = this.queueStale;
    f.baselineRunsStale = this.baselineRunsStale;
    return f;
  }

  /** `x`, or a copy of it the first time this clone changes it. */
  private mine<T extends Map<unknown, unknown> | Set<unknown>>(x: T): T {
    if (!this.shared?.has(x)) return x;
    return (x instanceof Map ? new Map(x) : new Set(x)) as T;
  }

  /** Applies `chain`'s entries after the ones already folded. */
  extend(chain: LedgerEntry[]): this {
    for (let i = this.entries.length; i < chain.length; i++) this.apply(chain[i]);
    return this;
  }

  private apply(e: LedgerEntry): void {
    const again = e.type === 'result_recorded' && this.state.results.has((e as LedgerEntry<'result_recorded'>).data.job_id);
    this.state.apply(e);
    this.entries.push(e);
    switch (e.type) {
      case 'job_dispatched': {
        const d = (e as LedgerEntry<'job_dispatched'>).data;
        const j = { ...d, time: e.time };
        (this.jobs = this.mine(this.jobs)).set(d.job_id, j);
        if (!this.state.results.has(d.job_id)) (this.open = this.mine(this.open)).set(d.job_id, j);
        // a candidate job of the PR (any commit: a newer push supersedes) takes it off the queue
        if (d.pr !== null && d.role === 'candidate' && !this.longRuns.has(d.job_id) && this.queue.has(d.pr)) (this.queue = this.mine(this.queue)).delete(d.pr);
        break;
      }
      case 'result_recorded': {
        const d = (e as LedgerEntry<'result_recorded'>).data;
        if (this.open.has(d.job_id)) (this.open = this.mine(this.open)).delete(d.job_id);
        if (d.pr !== null && d.result === null && d.reason === closedReason(d.pr)) (this.closedSeq = this.mine(this.closedSeq)).set(`${d.pr}@${d.sha}`, e.seq);
        if (again) this.baselineRunsStale = true;
        else {
          const b = baselineRunOf(d, this.longRuns);
          if (b) (this.baselineRuns = this.mine(this.baselineRuns)).set(d.job_id, b);
          if (!this.state.grants.has(d.job_id) && !this.state.reversals.has(d.job_id)) (this.ungranted = this.mine(this.ungranted)).add(d.job_id);
        }
        break;
      }
      case 'credit_granted':
      case 'credit_reversed': {
        const job = (e.data as { job_id: string }).job_id;
        if (this.ungranted.has(job)) (this.ungranted = this.mine(this.ungranted)).delete(job);
        break;
      }
      case 'job_started': {
        const d = (e as LedgerEntry<'job_started'>).data;
        // the first start of a job counts (App versions append one; a second is ignored)
        if (!this.started.has(d.job_id)) (this.started = this.mine(this.started)).set(d.job_id, { ...d, time: e.time });
        break;
      }
      case 'runner_registered': {
        const d = (e as LedgerEntry<'runner_registered'>).data;
        (this.registry = this.mine(this.registry)).set(d.runner_name, d);
        break;
      }
      case 'baseline_recorded': {
        const d = (e as LedgerEntry<'baseline_recorded'>).data;
        (this.baselines = this.mine(this.baselines)).set(classAt(d.hardware_class, d.sha), d);
        break;
      }
      case 'experiment_queued': {
        const d = (e as LedgerEntry<'experiment_queued'>).data;
        this.queue = this.mine(this.queue);
        this.queue.delete(d.pr); // re-queued: its place is by the new time
        this.queue.set(d.pr, { ...d, time: e.time });
        break;
      }
      case 'experiment_merged':
        this.reuse((e as LedgerEntry<'experiment_merged'>).data);
      // falls through
      case 'experiment_discarded':
      case 'experiment_outdated':
      case 'experiment_dequeued': {
        const d = e.data as { pr: number; sha: string };
        // (an outdated commit is decided too: it is not judged, and its runs' credits are due)
        if (e.type !== 'experiment_dequeued') {
          (this.decided = this.mine(this.decided)).add(`${d.pr}@${d.sha}`);
          (this.decidedSeq = this.mine(this.decidedSeq)).set(`${d.pr}@${d.sha}`, e.seq);
        } else if ((d as { reason?: string }).reason === closedReason(d.pr)) (this.closedSeq = this.mine(this.closedSeq)).set(`${d.pr}@${d.sha}`, e.seq);
        if (this.queue.get(d.pr)?.sha === d.sha) (this.queue = this.mine(this.queue)).delete(d.pr);
        break;
      }
      case 'credit_spent': {
        const d = (e as LedgerEntry<'credit_spent'>).data;
        const issue = longRunIssue(d.reason);
        if (issue === null) break;
        (this.longRuns = this.mine(this.longRuns)).set(d.job_id, issue);
        if (this.jobs.has(d.job_id)) this.queueStale = true;
        if (this.baselineRuns.has(d.job_id)) (this.baselineRuns = this.mine(this.baselineRuns)).delete(d.job_id);
        break;
      }
      default:
        break;
    }
  }

  /** The runs a merge names as samples of its commit's baseline, as baseline runs of that commit (app/baselines.ts baselineRunsOf says which still count). */
  private reuse(d: EntryDataOf<'experiment_merged'>): void {
    for (const j of d.baseline_job_ids ?? []) {
      const r = this.state.results.get(j)?.data;
      if (!r?.result || r.result.val_bpb === null || !r.validated) continue;
      (this.reused = this.mine(this.reused)).set(j, { hardware_class: d.hardware_class, sha: d.merge_sha, val_bpb: r.result.val_bpb, tokens_per_second: r.result.tokens_per_second, job_id: j, owner: r.runner_owner, reused: true });
    }
  }

  /** Freezes the fold and makes its view. */
  seal(): LedgerView {
    if (this.queueStale) this.queue = queueOf(this.entries, this.longRuns);
    if (this.baselineRunsStale) {
      this.baselineRuns = new Map();
      for (const { data: r } of this.state.results.values()) {
        const b = baselineRunOf(r, this.longRuns);
        if (b) this.baselineRuns.set(r.job_id, b);
      }
    }
    this.queueStale = this.baselineRunsStale = false;
    Object.freeze(this.entries);
    const { entries, state, jobs, started, registry, baselines, decided, decidedSeq, closedSeq, longRuns, queue, ungranted } = this;
    this.view = { entries, state, jobs, open: [...this.open.values()], started, registry, baselineRuns: [...this.baselineRuns.values(), ...this.reused.values()], baselines, decided, decidedSeq, closedSeq, longRuns, queue, ungranted };
    return this.view;
  }
}

/** The queue of a whole chain, given every long run in it (what the view held before it was folded incrementally). */
export function queueOf(entries: LedgerEntry[], longRuns: Map<string, number>): Map<number, Queued> {
  const queue = new Map<number, Queued>();
  for (const e of entries) {
    if (e.type === 'experiment_queued') {
      const d = (e as LedgerEntry<'experiment_queued'>).data;
      queue.delete(d.pr);
      queue.set(d.pr, { ...d, time: e.time });
    } else if (e.type === 'job_dispatched') {
      const d = (e as LedgerEntry<'job_dispatched'>).data;
      if (d.pr !== null && d.role === 'candidate' && !longRuns.has(d.job_id)) queue.delete(d.pr);
    } else if (e.type === 'experiment_dequeued' || e.type === 'experiment_outdated' || e.type === 'experiment_merged' || e.type === 'experiment_discarded') {
      const d = e.data as { pr: number; sha: string };
      if (queue.get(d.pr)?.sha === d.sha) queue.delete(d.pr);
    }
  }
  return queue;
}

/** Where a queued commit stands in the queue: its own time, or the place kept from the outdated commit it replaces. */
export const queuedSince = (q: Queued): string => q.since ?? q.time;

/** Queued commits that may run now (not waiting for a baseline that is still missing), oldest place first. */
export function readyQueue(view: LedgerView): Queued[] {
  const ready = [...view.queue.values()].filter((q) => !q.waiting_for || view.baselines.has(classAt(q.waiting_for.hardware_class, q.waiting_for.sha)));
  return ready.some((q) => q.since) ? ready.sort((a, b) => queuedSince(a).localeCompare(queuedSince(b))) : ready;
}

/**
 * Results whose credit is due now. Candidate results wait until their PR commit is decided after
 * them (or its claim ended by a close of the PR, and another owner's run agreed: firstRunDue);
 * under a trust policy every result also waits until another owner's run agreed with it (a
 * trusted owner's candidate unless the spot check drew it), which the ledger enforces
 * (ledger/trust.ts). Long runs claim nothing and are due at once. Grants for classes without a
 * baseline stay pending.
 */
export function grantsDue(view: LedgerView): NonNullable<ReturnType<LedgerState['creditFor']>>[] {
  const out: NonNullable<ReturnType<LedgerState['creditFor']>>[] = [];
  // a granted or reversed result earns nothing more (LedgerState.ungrantable): only the others are looked at
  for (const jobId of view.ungranted) {
    const r = view.state.results.get(jobId)!.data;
    if (!r.validated || !r.result || r.result.failure?.kind === 'harness_error') continue;
    if (r.role === 'candidate' && !view.longRuns.has(jobId) && !firstRunDue(view, jobId)) continue;
    const g = view.state.creditFor(jobId);
    if (g) out.push(g);
  }
  return out;
}

/**
 * Whether a candidate's (first) run is due: its commit was judged after the run was recorded (a
 * verdict of an earlier round, the commit discarded and then reopened and paid again, says nothing
 * of this run: due at once on trust alone, a trusted runner's claim the author then closed kept its
 * credit), or a close of its PR ended the claim after it and another owner's run agreed with it
 * (never on trust alone, or an author would close a forged claim into credit).
 */
function firstRunDue(view: LedgerView, jobId: string): boolean {
  const r = view.state.results.get(jobId)!;
  const k = `${r.data.pr}@${r.data.sha}`;
  if ((view.decidedSeq.get(k) ?? -1) > r.seq) return true;
  if (!((view.closedSeq.get(k) ?? -1) > r.seq && view.state.trust.checked.has(jobId))) return false;
  // and the runs that agreed with it stand: none of the claim's verify runs outvoted, or waiting for
  // the replay that would confirm it (a colluding verifier on probation echoes a trusted forger's
  // claim; the author closes the PR before the replay that would refute the echo). Rare: a closed,
  // confirmed claim's first run, looked at until it is paid.
  const t = view.state.trust;
  for (const ids of [t.faulted, t.replayDue]) {
    for (const id of ids) if (view.jobs.get(id)?.verifies === jobId && view.jobs.get(id)!.role === 'verify' && !view.jobs.get(id)!.replay && (t.faulted.has(id) || t.awaitsReplay(id))) return false;
  }
  return true;
}

/**
 * The attempt a claim's verify chain has reached: the highest of its verify jobs' and of `job` (the
 * run just judged). A claim continued by the replay of one of its verify runs (app/policy/
 * side-replays.ts) goes on from its own chain's count, not the replay's (found in a fault run: a
 * chain at attempt 9 went on at 6, past its `max_runs` bound).
 */
export function chainAttempt(view: LedgerView, claimId: string, job: { attempt: number; verifies: string | null }): number {
  let top = job.verifies === claimId ? job.attempt : 0;
  for (const j of view.jobs.values()) if (j.role === 'verify' && j.verifies === claimId && j.attempt > top) top = j.attempt;
  return Math.max(top, job.verifies === claimId ? job.attempt : 1);
}
