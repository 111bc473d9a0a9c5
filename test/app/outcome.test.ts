import { describe, it, expect } from '@jest/globals';
import { outcome, type OutcomeInput } from '../../app/policy/outcome.js';
import { checkResult, nonceOfRunTitle } from '../../app/policy/result-check.js';
import { offPace } from '../../app/policy/pace.js';
import { newJobId, jobRefs } from '../../app/jobs.js';
import type { ExperimentResult } from '../../trainer/result.js';

const H = (c: string) => c.repeat(64);
const SHA = 'c'.repeat(40);
function result(over: Partial<ExperimentResult> = {}, job: Partial<NonNullable<ExperimentResult['job']>> = {}): ExperimentResult {
  return {
    schema_version: 1, harness_version: '1.0.0', status: 'ok', failure: null, val_bpb: 1.9, unigram_bpb: 4.5, bigram_bpb: 3.6, eval_bytes: 1000,
    eval_split: 'heldout', dataset: 'brown', steps: 10, tokens: 100, budget_seconds: 300, train_seconds: 300, total_seconds: 310,
    tokens_per_second: 1000, params: 10, backend: 'cpu', device: 'CPU', hardware_class: 'gpu-x', peak_memory_mb: 1, seed: 1, eval_seed: 7,
    candidate_sha256: H('a'), harness_sha256: H('b'), loss_curve: [], started_at: 't', finished_at: 't',
    job: { role: 'candidate', nonce: 'nonce-123456', repo: 'o/r', pr: 7, sha: SHA, run_id: 1, runner_name: 'r', isolation: 'docker', ...job },
    ...over,
  };
}
const expected = { job_id: 'nonce-123456', role: 'candidate' as const, repo: 'o/r', pr: 7, sha: SHA };

describe('nonceOfRunTitle', () => {
  it('reads the nonce experiment.yml\'s run-name puts at the end of the title', () => {
    expect(nonceOfRunTitle(`candidate #7 @ ${'a'.repeat(40)} [12-n-${'f'.repeat(24)}]`)).toBe(`12-n-${'f'.repeat(24)}`);
    expect(nonceOfRunTitle('baseline main @ x [short]')).toBeNull();
    expect(nonceOfRunTitle('my own title')).toBeNull();
    expect(nonceOfRunTitle(null)).toBeNull();
  });
});

describe('checkResult', () => {
  it('accepts the result the App asked for', () => {
    expect(checkResult(JSON.stringify(result()), expected, H('a'), H('b'))).toMatchObject({ validated: true, reason: null });
  });
  it('names the first thing that differs', () => {
    const cases: [string, RegExp][] = [
      [JSON.stringify(result({}, { nonce: 'other-nonce-1' })), /nonce other-nonce-1 is not the nonce nonce-123456/],
      [JSON.stringify(result({}, { role: 'verify' })), /role verify differs/],
      [JSON.stringify(result({}, { pr: 8 })), /pr 8 differs/],
      [JSON.stringify(result({ candidate_sha256: H('d') })), /candidate sha256/],
      [JSON.stringify(result({ harness_sha256: H('e') })), /harness sha256/],
      [JSON.stringify(result({ eval_split: 'dev' })), /held-out split/],
      [JSON.stringify(result({ job: null })), /no job block/],
      ['{"val_bpb": 1}', /does not match result schema/],
      ['not json', /not valid JSON/],
    ];
    for (const [text, reason] of cases) {
      const c = checkResult(text, expected, H('a'), H('b'));
      expect(c.validated).toBe(false);
      expect(c.reason).toMatch(reason);
    }
    const bound = { ...expected, eval_seed: 7, budget_seconds: 300, registered_class: 'gpu-x' };
    expect(checkResult(JSON.stringify(result({ eval_seed: 41 })), bound, H('a'), H('b'))).toMatchObject({ forged: true, reason: expect.stringMatching(/eval_seed 41 differs from the dispatched eval seed 7/) });
    // the training seed is drawn per run by the App: a result trained with another seed (a lucky one, picked by the runner) is forged
    expect(checkResult(JSON.stringify(result({ seed: 5 })), { ...bound, seed: 9 }, H('a'), H('b'))).toMatchObject({ forged: true, reason: expect.stringMatching(/seed 5 differs from the dispatched training seed 9/) });
    expect(checkResult(JSON.stringify(result({ budget_seconds: 1200 })), bound, H('a'), H('b')).reason).toMatch(/budget_seconds 1200 differs from the dispatched budget 300/);
    expect(checkResult(JSON.stringify(result({ hardware_class: 'gpu-h100' })), bound, H('a'), H('b')).reason).toMatch(/gpu-h100 is not the class gpu-x its runner was registered with/);
    expect(checkResult(JSON.stringify(result({ eval_seed: 7, budget_seconds: 300, hardware_class: 'gpu-x' })), bound, H('a'), H('b')).validated).toBe(true);
    expect(checkResult(JSON.stringify(result()), expected, H('a'), H('b'), { problem: 'the run uploaded an artifact named result-x instead of result-nonce-123456', forged: true })).toMatchObject({ validated: false, forged: true });
    expect(checkResult(JSON.stringify(result()), expected, H('a'), H('b'), { problem: 'the artifact result-nonce-123456 is not a readable zip' })).toMatchObject({ validated: false, forged: false });
    expect(checkResult(null, expected, H('a'), H('b')).reason).toMatch(/uploaded no result-nonce-123456 artifact/);
  });
});

describe('outcome', () => {
  const settings = { margin: { k: 3.5, min_delta: 0 }, seq: { screen: 1, futility: 1.5, max_runs: 6 }, quorum: 1, tolerance: 0.02, agree_sigmas: 3.5, maxAttempts: 3 };
  const baseline = { hardware_class: 'gpu-x', sha: SHA, mean: 2, sigma: 0.01, n: 5, tokens_per_second: 1000 };
  // a class whose sigma is well measured (the merge bound is not widened for it)
  const base: OutcomeInput = { role: 'candidate', validated: true, reason: null, result: result(), attempt: 1, runnerOwner: 'alice', baseline, classSigma: { sigma: 0.01, df: 1e6 }, claim: null, replicas: [] };
  const claim = { job_id: 'claim', val_bpb: 1.9, hardware_class: 'gpu-x', runner_owner: 'alice' };
  it('candidate: verify an improvement (excluding the claimant), discard the rest, wait for a missing baseline', () => {
    expect(outcome(base, settings)).toMatchObject({ kind: 'verify', exclude_owners: ['alice'] });
    expect(outcome({ ...base, result: result({ val_bpb: 1.99 }) }, settings)).toMatchObject({ kind: 'discard', val_bpb: 1.99 });
    expect(outcome({ ...base, baseline: null }, settings)).toEqual({ kind: 'wait_baseline', hardware_class: 'gpu-x' });
    expect(outcome(base, { ...settings, quorum: 0 })).toMatchObject({ kind: 'merge' });
  });
  it('failed runs: the candidate\'s fault discards, the harness\'s is retried', () => {
    const nan = result({ status: 'failed', val_bpb: null, failure: { kind: 'nan', message: 'NaN at step 3' } });
    expect(outcome({ ...base, result: nan }, settings)).toMatchObject({ kind: 'discard', reason: 'the run failed (nan): NaN at step 3' });
    const harness = result({ status: 'failed', val_bpb: null, failure: { kind: 'harness_error', message: 'no data' } });
    expect(outcome({ ...base, result: harness }, settings).kind).toBe('retry');
    expect(outcome({ ...base, result: harness, attempt: 3 }, settings).kind).toBe('give_up');
  });
  it('rejected results are retried up to the attempt limit', () => {
    expect(outcome({ ...base, validated: false, reason: 'forged', result: null }, settings)).toEqual({ kind: 'retry', reason: 'forged' });
    expect(outcome({ ...base, validated: false, reason: 'forged', result: null, attempt: 3 }, settings).kind).toBe('give_up');
  });
  it('verify: merge when an independent run agrees; otherwise refute or verify again', () => {
    const v = { ...base, role: 'verify' as const, runnerOwner: 'bob', claim, result: result({ val_bpb: 1.91 }) };
    expect(outcome(v, settings)).toMatchObject({ kind: 'merge', claim });
    // a disagreement is settled by a third owner's run; the outvoted owner is faulted
    expect(outcome({ ...v, result: result({ val_bpb: 1.95 }) }, settings)).toMatchObject({ kind: 'verify_again', exclude_owners: ['alice', 'bob'] });
    const carol = { job_id: 'v1', owner: 'carol', val_bpb: 1.99 };
    expect(outcome({ ...v, job_id: 'v2', replicas: [carol], result: result({ val_bpb: 1.991 }) }, settings)).toMatchObject({
      kind: 'refuted',
      faults: { wrong: [{ owner: 'alice', job_id: 'claim' }], group: [carol, { owner: 'bob', job_id: 'v2' }] },
    });
    // the PR's author never verifies their own PR, and does not count toward the quorum
    expect(outcome({ ...v, author: 'bob' }, settings)).toMatchObject({ kind: 'verify_again', reason: expect.stringMatching(/the PR's author/) });
    expect(outcome({ ...v, claim: { ...claim, runner_owner: 'dave' }, author: 'dave', runnerOwner: 'bob' }, settings)).toMatchObject({ kind: 'verify_again', reason: expect.stringMatching(/a merge needs 3.50 and 2 owners other than the PR's author/) });
    expect(outcome({ ...v, runnerOwner: 'alice' }, settings)).toMatchObject({ kind: 'verify_again', exclude_owners: ['alice'] });
    expect(outcome({ ...v, runnerOwner: null }, settings)).toMatchObject({ kind: 'verify_again' });
    expect(outcome({ ...v, result: result({ hardware_class: 'gpu-y' }) }, settings)).toMatchObject({ kind: 'verify_again', reason: expect.stringMatching(/gpu-y/) });
    expect(outcome(v, { ...settings, quorum: 2 })).toMatchObject({ kind: 'verify_again', exclude_owners: ['alice', 'bob'] });
    expect(outcome({ ...v, replicas: [{ job_id: 'v1', owner: 'carol', val_bpb: 1.9 }] }, { ...settings, quorum: 2 })).toMatchObject({ kind: 'merge' });
  });
  // A score far better than its class's best is more likely forged (or echoed by a colluder) than
  // real: two accounts agreeing on a 1.0 bpb jump merged at quorum 1. Such a claim needs
  // `jump.extra` more independent owners before it counts (docs/trust.md, issue 12).
  it('a suspicious jump: a claim beating the baseline by more than jump.bpb needs more owners', () => {
    const jump = { ...settings, jump: { bpb: 0.1, extra: 2 } };
    const forged = { job_id: 'claim', val_bpb: 1.0, hardware_class: 'gpu-x', runner_owner: 'mallory' };
    const echo = { ...base, role: 'verify' as const, runnerOwner: 'sock', claim: forged, job_id: 'v1', result: result({ val_bpb: 1.001 }) };
    expect(outcome(echo, settings)).toMatchObject({ kind: 'merge' }); // without the rule: merged on one echo
    expect(outcome(echo, jump)).toMatchObject({ kind: 'verify_again', reason: expect.stringMatching(/4 owners other than the PR's author/) });
    // three more independent owners who agree: it counts
    const more = [{ job_id: 'v1', owner: 'sock', val_bpb: 1.001 }, { job_id: 'v2', owner: 'bob', val_bpb: 1.002 }];
    expect(outcome({ ...echo, runnerOwner: 'carol', job_id: 'v3', replicas: more, result: result({ val_bpb: 0.999 }) }, jump)).toMatchObject({ kind: 'merge' });
    // an ordinary improvement (0.1 bpb or less) keeps the configured quorum
    expect(outcome({ ...echo, claim: { ...forged, val_bpb: 1.95 }, result: result({ val_bpb: 1.951 }) }, jump)).toMatchObject({ kind: 'merge' });
    // quorum 0 merges a first run at once, but not a suspicious one
    expect(outcome({ ...base, result: result({ val_bpb: 1.0 }) }, { ...jump, quorum: 0 })).toMatchObject({ kind: 'verify' });
  });
  // The old fixed tolerance (0.02 bpb) outvoted honest runs of the CPU class (sigma 0.014: two honest
  // runs differ by more than 0.02 in ~16-32% of pairs) and banned six honest owners in a 200-PR
  // simulation; the tolerance now scales with the class's sigma.
  it('honest noise is no fault: three honest runs of a noisy class spread over 0.045 bpb agree', () => {
    const noisy = { ...base, baseline: { ...baseline, mean: 2.0, sigma: 0.014 }, classSigma: { sigma: 0.014, df: 1e6 } };
    const claim0 = { job_id: 'claim', val_bpb: 1.99, hardware_class: 'gpu-x', runner_owner: 'alice' };
    const v = { ...noisy, role: 'verify' as const, runnerOwner: 'carol', claim: claim0, job_id: 'v2', replicas: [{ job_id: 'v1', owner: 'bob', val_bpb: 2.01 }], result: result({ val_bpb: 2.035 }) };
    const out = outcome(v, settings);
    expect(out).toMatchObject({ kind: 'discard', faults: { wrong: [] } });
    // with the old 0.02 bpb, carol's run would have been outvoted by alice and bob
    expect(outcome(v, { ...settings, agree_sigmas: 0 })).toMatchObject({ faults: { wrong: [{ owner: 'carol' }] } });
  });
  it('sabotage: a discard replicated by two owners who agree on an improvement merges, and the saboteur is faulted', () => {
    const sabotage = { job_id: 'claim', val_bpb: 2.5, hardware_class: 'gpu-x', runner_owner: 'mallory' };
    const v = { ...base, role: 'verify' as const, runnerOwner: 'carol', claim: sabotage, job_id: 'v2', replicas: [{ job_id: 'v1', owner: 'bob', val_bpb: 1.9 }], result: result({ val_bpb: 1.905 }) };
    expect(outcome(v, settings)).toMatchObject({ kind: 'merge', job_ids: ['v1', 'v2'], faults: { wrong: [{ owner: 'mallory' }] } });
    // two owners agreeing on no improvement discard it, and nobody is faulted
    expect(outcome({ ...v, claim: { ...sabotage, val_bpb: 1.99 }, replicas: [], result: result({ val_bpb: 1.995 }) }, settings)).toMatchObject({ kind: 'discard', faults: { wrong: [] } });
    // a failed run replicated by a failed run: the candidate fails
    const nan = result({ status: 'failed', val_bpb: null, failure: { kind: 'nan', message: 'NaN' } });
    expect(outcome({ ...v, claim: { ...sabotage, val_bpb: null }, replicas: [], result: nan }, settings)).toMatchObject({ kind: 'discard', reason: 'the run fails on independent runners' });
  });
});

describe('job ids', () => {
  it('carry the check run and comment ids, and are unguessable', () => {
    const id = newJobId({ check: 42, comment: 7 });
    expect(id).toMatch(/^42-7-[0-9a-f]{24}$/);
    expect(jobRefs(id)).toEqual({ check: 42, comment: 7, newComment: false });
    expect(jobRefs(newJobId({ check: null, comment: null }))).toEqual({ check: null, comment: null, newComment: false });
    // a PR opened and dispatched at once: no comment yet, the result creates it
    const fresh = newJobId({ check: 42, comment: null, newComment: true });
    expect(fresh).toMatch(/^42-n-[0-9a-f]{24}$/);
    expect(jobRefs(fresh)).toEqual({ check: 42, comment: null, newComment: true });
    expect(jobRefs('forged')).toEqual({ check: null, comment: null, newComment: false });
    expect(newJobId({ check: 1, comment: 1 })).not.toBe(newJobId({ check: 1, comment: 1 }));
  });
});

describe('offPace', () => {
  const cal = (before: number, after: number) => ({ workload: 'w', before_gflops: before, after_gflops: after });
  const h = (classPace: number[], ownPace: number[] = []) => ({ cls: 'gpu-x', classPace, ownPace });
  it('passes a run at its usual pace, and one without a calibration (older harness)', () => {
    expect(offPace(cal(100, 98), h([100, 101, 99]), 0.2)).toBeNull();
    expect(offPace(undefined, h([100, 101, 99]), 0.2)).toBeNull();
    expect(offPace(cal(50, 50), h([100], [100, 101]), 0.2)).toBeNull(); // too little history to judge: one owner, two of its own runs
  });
  it('sends elsewhere a run that slowed during training, or runs below its class\'s or its owner\'s usual pace', () => {
    expect(offPace(cal(100, 70), h([]), 0.2)).toMatch(/70 GFLOP\/s after training, 30% below the 100 before/);
    expect(offPace(cal(70, 70), h([100, 101, 99]), 0.2)).toMatch(/30% below gpu-x's usual 100/);
    expect(offPace(cal(150, 150), h([100, 101, 99], [200, 210, 190]), 0.2)).toMatch(/25% below its owner's usual 200/);
  });
});
