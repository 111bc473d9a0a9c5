// Who runs next. Pure: the queue, the balances and the limits in, the dispatch order out.
import { payment, type Payment } from './payment.js';

export interface QueuedPull {
  pr: number;
  author: string;
  sha: string;
  /** when it was queued (ISO 8601): older first among equal balances */
  queued_at: string;
}

export interface Plan {
  dispatch: (QueuedPull & { pay: NonNullable<Payment> })[];
  /** queued but not dispatched for lack of credits */
  unaffordable: QueuedPull[];
}

/**
 * Orders the queue by the author's balance (highest first), then age, and takes as many as
 * the free slots allow. An author's balance is charged for each pick, so one author's several
 * PRs don't all jump the queue.
 */
export function planDispatch(
  queue: QueuedPull[],
  inFlight: number,
  maxInFlight: number,
  balances: Map<string, number>,
  freeRunsLeft: Map<string, number>,
  cost: number,
): Plan {
  const remaining = new Map(balances);
  const free = new Map(freeRunsLeft);
  const ordered = [...queue].sort(
    (a, b) => (remaining.get(b.author) ?? 0) - (remaining.get(a.author) ?? 0) || a.queued_at.localeCompare(b.queued_at) || a.pr - b.pr,
  );
  const dispatch: Plan['dispatch'] = [];
  const unaffordable: QueuedPull[] = [];
  let slots = Math.max(0, maxInFlight - inFlight);
  for (const q of ordered) {
    const balance = remaining.get(q.author) ?? 0;
    const pay = payment(balance, cost, free.get(q.author) ?? 0);
    if (!pay) {
      unaffordable.push(q);
      continue;
    }
    if (slots === 0) continue;
    dispatch.push({ ...q, pay });
    remaining.set(q.author, balance - pay.amount);
    if (pay.amount === 0) free.set(q.author, (free.get(q.author) ?? 0) - 1);
    slots--;
  }
  return { dispatch, unaffordable };
}

export interface OpenJob {
  job_id: string;
  dispatched_at: string;
  /** when a runner took the job's run (the ledger's job_started), or null while it is queued */
  started_at: string | null;
  attempt: number;
  /** this job's attempt limit when it is not `maxAttempts` (a verify job's attempt counts its claim's chain: policy/outcome.ts attemptLimit) */
  limit?: number;
  /** queued for runners that will never take it (one banned owner's): past the queue limit at once */
  stranded?: boolean;
}

/** `deadline`: it started and has not reported within the deadline; `queue`: no runner took it within the queue limit */
export type Overdue = { job: OpenJob; action: 'redispatch' | 'give_up'; why: 'deadline' | 'queue' };

/**
 * Jobs past their deadline, re-dispatched until their attempt limit, then given up. The deadline
 * counts from the run's start on a runner: a job still queued (behind a busy fleet, or for a label
 * no runner serves now) is not overdue by it, only past `queueMinutes` since its dispatch (null:
 * never; the caller passes it only for jobs GitHub shows still queued). Counting from the dispatch
 * instead re-dispatched queued jobs, and both copies ran (docs/trust.md, "The swarm simulator").
 */
export function overdueJobs(open: OpenJob[], now: Date, deadlineMinutes: number, maxAttempts: number, queueMinutes: number | null = null): Overdue[] {
  const out: Overdue[] = [];
  for (const job of open) {
    const why =
      job.started_at !== null
        ? now.getTime() - Date.parse(job.started_at) > deadlineMinutes * 60_000 ? 'deadline' : null
        : queueMinutes !== null && (job.stranded || now.getTime() - Date.parse(job.dispatched_at) > queueMinutes * 60_000) ? 'queue' : null;
    if (why) out.push({ job, action: job.attempt < (job.limit ?? maxAttempts) ? 'redispatch' : 'give_up', why });
  }
  return out;
}
