// A long run ("draw on the swarm") is a job paid by its requester whose `credit_spent` reason
// names the issue that asked for it. The ledger alone then tells every reader which jobs are
// long runs: the App scores them without touching merges, the leaderboard keeps them out of
// the experiments table.
import type { LedgerEntry } from './entries.js';

export function longRunReason(issue: number): string {
  return `long run requested in issue #${issue}`;
}

export function longRunIssue(reason: string): number | null {
  const m = /^long run requested in issue #(\d+)$/.exec(reason);
  return m ? Number(m[1]) : null;
}

/** job ids of long runs, from their spends */
export function longRunJobs(entries: readonly LedgerEntry[]): Set<string> {
  const jobs = new Set<string>();
  for (const e of entries) {
    if (e.type === 'credit_spent') {
      const d = e.data as LedgerEntry<'credit_spent'>['data'];
      if (longRunIssue(d.reason) !== null) jobs.add(d.job_id);
    }
  }
  return jobs;
}
