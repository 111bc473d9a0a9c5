// A long run ("draw on the swarm") of a PR head is paid work, not another experiment of that PR:
// the experiments table keeps one row per experiment run, and the long run's result stays readable.
import { describe, expect, it } from '@jest/globals';
import { appendEntries, longRunReason, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { readExperiments } from '../../leaderboard/src/experiments.js';
import { sampleResult } from '../../leaderboard/src/sample-ledger.js';

const SHA = 'c'.repeat(40);

function run(jobId: string, budget: number, longRunIssue: number | null): NewEntry[] {
  const job = { role: 'candidate' as const, nonce: jobId, repo: 'o/r', pr: 7, sha: SHA, run_id: 1, runner_name: 'r1', isolation: 'docker' as const };
  const result = sampleResult({ cls: 'gpu-h100-80gb', valBpb: 2.3, seed: 1, curvePoints: 4, finishedAt: new Date('2026-01-01T00:00:00Z'), job, trainSeconds: budget });
  return [
    { type: 'job_dispatched', data: { job_id: jobId, role: 'candidate', repo: 'o/r', pr: 7, sha: SHA, author: 'alice', hardware_class: null, eval_seed: 3, budget_seconds: budget, attempt: 1, verifies: null } },
    { type: 'credit_spent', data: { login: 'alice', amount: budget, job_id: jobId, reason: longRunIssue === null ? 'experiment of PR #7' : longRunReason(longRunIssue) } },
    { type: 'result_recorded', data: { job_id: jobId, role: 'candidate', pr: 7, sha: SHA, title: 'Try LR', author: 'alice', runner_name: 'r1', runner_owner: 'bob', run_url: null, validated: true, reason: null, result, diff_path: null, diff_sha256: null, log_excerpt: null } },
  ];
}

describe('long runs on the leaderboard', () => {
  it('a long run of a PR head is not a row of the experiments table; its result is still kept', () => {
    const chain: LedgerEntry[] = appendEntries([], [...run('job-experiment-1', 300, null), ...run('job-longrun-1', 3600, 12)]);
    const view = readExperiments(chain);
    expect(view.experiments.map((x) => x.job_id)).toEqual(['job-experiment-1']);
    expect(view.resultsByJob.has('job-longrun-1')).toBe(true);
  });
  it('without the long-run spend both runs are experiments (the test can fail)', () => {
    const chain: LedgerEntry[] = appendEntries([], [...run('job-experiment-1', 300, null), ...run('job-experiment-2', 300, null)]);
    expect(readExperiments(chain).experiments).toHaveLength(2);
  });
});
