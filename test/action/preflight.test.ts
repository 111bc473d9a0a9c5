// The Action's side of the pre-flight pace check: the `pace-floors` input is validated and
// reaches the harness, and a given-back result is uploaded only when it was given back against
// the floor this job was sent (exit 3), never as a score.
import { describe, expect, it } from '@jest/globals';
import { RESULT_SCHEMA_VERSION, type ExperimentResult } from '../../trainer/result.js';
import { mockCore, NONCE } from './helpers/action-world.js';

const core = mockCore();
const { completeResult } = await import('../../action/src/main.js');
const { readInputs } = await import('../../action/src/inputs.js');
const { renderSummary } = await import('../../action/src/summary.js');

const WORKLOAD = 'matmul-256x256x256x10@wasm';
const floors = { 'cpu-x': { [WORKLOAD]: 3 } };
const request: Parameters<typeof completeResult>[1] = { role: 'candidate', nonce: NONCE, pr: 7, sha: 'a'.repeat(40), evalSeed: 11, budget: 300, paceFloors: floors };
const ctx = { repo: 'acme/autoresearch', runId: 1, runnerName: 'r', isolation: 'none' as const };

const givenBack: ExperimentResult = {
  schema_version: RESULT_SCHEMA_VERSION, harness_version: '2.0.0', status: 'off_pace', failure: null, val_bpb: null,
  unigram_bpb: 0, bigram_bpb: 0, eval_bytes: 0, eval_split: 'heldout', dataset: 'brown', steps: 0, tokens: 0, budget_seconds: 300,
  train_seconds: 0, total_seconds: 4, tokens_per_second: 0, params: 0, backend: 'wasm', device: 'CPU', hardware_class: 'cpu-x', peak_memory_mb: 90,
  calibration: { workload: WORKLOAD, before_gflops: 1.2, after_gflops: 0 }, preflight: { workload: WORKLOAD, gflops: 1.2, floor_gflops: 3 },
  seed: 3, eval_seed: 11, candidate_sha256: 'c'.repeat(64), harness_sha256: 'd'.repeat(64), loss_curve: [],
  started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:04Z', job: null,
};

describe("the Action's check of a given-back result", () => {
  const check = (r: ExperimentResult, exit: number, over: Partial<typeof request> = {}) => () => completeResult(r, { ...request, ...over }, 'c'.repeat(64), exit, ctx);

  it('uploads an off_pace result given back against the requested floor, with exit 3', () => {
    expect(check(givenBack, 3)().job?.nonce).toBe(NONCE);
  });

  it('refuses one whose floor is not the one this job was sent, or none was sent', () => {
    expect(check(givenBack, 3, { paceFloors: { 'cpu-x': { [WORKLOAD]: 2 } } })).toThrow(/preflight\.floor_gflops 3 is not the requested floor 2 for cpu-x/);
    expect(check(givenBack, 3, { paceFloors: null })).toThrow(/is not the requested floor \(none\)/);
  });

  it('refuses an exit code that does not say "given back"', () => {
    expect(check(givenBack, 0)).toThrow(/exit code 0 does not match status off_pace/);
  });

  it('says in the job summary that the job was given back, not that it failed', () => {
    const text = renderSummary({ result: check(givenBack, 3)(), hardware: 'CPU', hardwareClass: 'cpu-x', diff: '', ignored: [], baseSha: 'b'.repeat(40) });
    expect(text).toMatch(/Given back \(off pace\).*\n\nThe calibration workload ran at 1\.20 GFLOP\/s before training, below the 3 GFLOP\/s/);
    expect(text).not.toMatch(/Failed/);
  });
});

describe('the pace-floors input', () => {
  const base = { sha: 'a'.repeat(40), role: 'candidate', nonce: NONCE, 'eval-seed': '11', pr: '7' };
  it('is parsed, and empty means no check', () => {
    core.inputs = { ...base, 'pace-floors': JSON.stringify(floors) };
    expect(readInputs({}).paceFloors).toEqual(floors);
    core.inputs = { ...base };
    expect(readInputs({}).paceFloors).toBeNull();
  });
  it('refuses a malformed one with one sentence naming the input', () => {
    core.inputs = { ...base, 'pace-floors': '{"cpu-x": {"w": "fast"}}' };
    expect(() => readInputs({})).toThrow(/^Input pace-floors at cpu-x\.w: .*; the App sends/);
  });
});
