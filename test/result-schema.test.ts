import { describe, expect, it } from '@jest/globals';
import { parseResult, RESULT_SCHEMA_VERSION } from '../trainer/result.js';

const ok = {
  schema_version: RESULT_SCHEMA_VERSION, harness_version: '0.1.0', status: 'ok', failure: null,
  val_bpb: 2.1, unigram_bpb: 4.5, bigram_bpb: 3.4, eval_bytes: 1000, eval_split: 'dev', dataset: 'brown',
  steps: 10, tokens: 640, budget_seconds: 1, train_seconds: 1, total_seconds: 2, tokens_per_second: 640, params: 100,
  backend: 'cpu', device: 'CPU: test', hardware_class: 'cpu-test', peak_memory_mb: 10, seed: 1, eval_seed: null,
  candidate_sha256: 'a'.repeat(64), harness_sha256: 'b'.repeat(64), loss_curve: [{ step: 1, t: 0.1, loss: 5 }],
  started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:02Z', job: null,
};

describe('result schema', () => {
  it('accepts a well-formed ok result', () => {
    expect(parseResult(JSON.stringify(ok)).val_bpb).toBe(2.1);
  });
  it('names the field that is wrong', () => {
    expect(() => parseResult(JSON.stringify({ ...ok, candidate_sha256: 'xyz' }))).toThrow(/candidate_sha256/);
  });
  it('refuses an ok result without a score and a failed result with one', () => {
    expect(() => parseResult(JSON.stringify({ ...ok, val_bpb: null }))).toThrow(/ok result must carry val_bpb/);
    expect(() => parseResult(JSON.stringify({ ...ok, status: 'failed', failure: { kind: 'nan', message: 'x' } }))).toThrow(/failed result/);
  });
  it('says when the text is not JSON', () => {
    expect(() => parseResult('{', 'artifact/result.json')).toThrow(/artifact\/result.json is not valid JSON/);
  });
});

describe('an off_pace result (given back before training)', () => {
  const calibration = { workload: 'matmul-256x256x256x10@wasm', before_gflops: 1.5, after_gflops: 0 };
  const givenBack = { ...ok, status: 'off_pace', val_bpb: null, steps: 0, tokens: 0, loss_curve: [], calibration, preflight: { workload: calibration.workload, gflops: 1.5, floor_gflops: 3 } };
  it('is accepted with its calibration below its floor', () => {
    expect(parseResult(JSON.stringify(givenBack)).status).toBe('off_pace');
  });
  it('is refused, with one reason, when it claims a score, a failure, a pace at or above the floor, or no preflight', () => {
    expect(() => parseResult(JSON.stringify({ ...givenBack, val_bpb: 2.1 }))).toThrow(/an off_pace result was given back before training and must carry no val_bpb/);
    expect(() => parseResult(JSON.stringify({ ...givenBack, failure: { kind: 'crash', message: 'x' } }))).toThrow(/no val_bpb and no failure/);
    expect(() => parseResult(JSON.stringify({ ...givenBack, calibration: { ...calibration, before_gflops: 3 }, preflight: { ...givenBack.preflight, gflops: 3 } }))).toThrow(/calibration 3 GFLOP\/s is not below its floor 3/);
    expect(() => parseResult(JSON.stringify({ ...givenBack, preflight: null }))).toThrow(/must carry its preflight block/);
  });
  it('must report the calibration it measured', () => {
    expect(() => parseResult(JSON.stringify({ ...givenBack, preflight: { ...givenBack.preflight, gflops: 1 } }))).toThrow(/preflight \(matmul-256x256x256x10@wasm at 1 GFLOP\/s\) is not the calibration before training/);
  });
  it('an ok result below its floor is refused (the harness gives such a job back)', () => {
    expect(() => parseResult(JSON.stringify({ ...ok, calibration, preflight: givenBack.preflight }))).toThrow(/an ok result's calibration 1.5 GFLOP\/s is below its floor 3/);
    expect(parseResult(JSON.stringify({ ...ok, calibration, preflight: { ...givenBack.preflight, floor_gflops: 1 } })).status).toBe('ok');
  });
});
