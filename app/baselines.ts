// Baseline runs of a default-branch commit on a hardware class.
import type { NewJob } from './dispatch.js';
import { classAt, type LedgerView } from './ledger-view.js';

/** Baseline runs still needed for `cls` at `sha`: the configured count minus runs recorded or in flight. */
export function baselineJobs(view: LedgerView, cls: string, sha: string, needed: number, disagreed = false): NewJob[] {
  if (view.baselines.has(classAt(cls, sha))) return [];
  const have = view.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha).length;
  const open = view.open.filter((j) => j.role === 'baseline' && !view.longRuns.has(j.job_id) && j.hardware_class === cls && j.sha === sha).length;
  // `disagreed`: enough runs, but not by enough agreeing owners: one more, up to twice the count
  const count = disagreed ? (open === 0 && have < 2 * needed ? 1 : 0) : Math.max(0, needed - have - open);
  return Array.from({ length: count }, () => ({
    role: 'baseline' as const,
    pr: null,
    sha,
    author: null,
    hardware_class: cls,
    runner_label: cls,
    attempt: 1,
    verifies: null,
    check: null,
    comment: null,
    pay: null,
    ...(disagreed ? { cap: 2 * needed } : {}),
  }));
}
