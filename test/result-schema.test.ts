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
