// The merge rule's power: what costs a real improvement its merge, each as a test of the pure function.
import { describe, it, expect } from '@jest/globals';
import { attemptLimit, outcome, type OutcomeInput } from '../../app/policy/outcome.js';
import type { ExperimentResult } from '../../trainer/result.js';

const SHA = 'c'.repeat(40);
function result(over: Partial<ExperimentResult> = {}): ExperimentResult {
  return {
    schema_version: 1, harness_version: '1.0.0', status: 'ok', failure: null, val_bpb: 1.96, unigram_bpb: 4.5, bigram_bpb: 3.6, eval_bytes: 1000,
    eval_split: 'heldout', dataset: 'brown', steps: 10, tokens: 100, budget_seconds: 300, train_seconds: 300, total_seconds: 310,
    tokens_per_second: 1000, params: 10, backend: 'cpu', device: 'CPU', hardware_class: 'gpu-x', peak_memory_mb: 1, seed: 1, eval_seed: 7,
    candidate_sha256: 'a'.repeat(64), harness_sha256: 'b'.repeat(64), loss_curve: [], started_at: 't', finished_at: 't',
    job: { role: 'verify', nonce: 'nonce-123456', repo: 'o/r', pr: 7, sha: SHA, run_id: 1, runner_name: 'r', isolation: 'docker' },
    ...over,
  } as ExperimentResult;
}

describe('a verify run is retried within the verify chain\'s attempts, not the first run\'s', () => {
  const settings = { margin: { k: 3.5, min_delta: 0 }, seq: { screen: 1, futility: 1.5, max_runs: 6 }, quorum: 2, tolerance: 0.02, agree_sigmas: 3.5, maxAttempts: 3 };
  const baseline = { hardware_class: 'gpu-x', sha: SHA, mean: 2, sigma: 0.01, n: 5, tokens_per_second: 1000 };
  const claim = { job_id: 'claim', val_bpb: 1.96, hardware_class: 'gpu-x', runner_owner: 'alice' };
  // a verify job's attempt counts every run of the claim's chain (verify_again dispatches attempt + 1),
  // so its third run is attempt 3: an off-pace result there (10% of the CPU class's runs are loaded)
  // gave up, and the whole PR was discarded. The simulator (seed 1, 1,000 PRs) lost 2 of its 11 live
  // 3-sigma improvements this way (PRs 61 and 989: "no valid result after 3 attempts (last: off pace ...)").
  const offPace: OutcomeInput = {
    role: 'verify', validated: false, reason: 'off pace: the calibration workload ran at 1.541 GFLOP/s, 62% below the class\'s usual 4.003', result: result(),
    attempt: 3, runnerOwner: 'carol', baseline, classSigma: { sigma: 0.01, df: 1e6 }, claim, replicas: [{ job_id: 'v1', owner: 'bob', val_bpb: 1.962 }], job_id: 'v3',
  };
  it('an off-pace third run of a claim is run again elsewhere, not the end of the PR', () => {
    expect(outcome(offPace, settings)).toMatchObject({ kind: 'retry', elsewhere: 'carol' });
    // a harness error on a verify run likewise
    const harness = result({ status: 'failed', val_bpb: null, failure: { kind: 'harness_error', message: 'disk full' } });
    expect(outcome({ ...offPace, validated: true, reason: null, result: harness }, settings).kind).toBe('retry');
  });
  it('the limit is max_attempts + max_runs for a verify chain (the handler\'s bound on verify_again), max_attempts for the rest', () => {
    expect(attemptLimit('verify', settings)).toBe(9);
    expect(attemptLimit('candidate', settings)).toBe(3);
    expect(attemptLimit('baseline', settings)).toBe(3);
    expect(outcome({ ...offPace, attempt: 9 }, settings).kind).toBe('give_up');
    expect(outcome({ ...offPace, role: 'candidate', claim: null, replicas: [] }, settings).kind).toBe('give_up');
  });
});
