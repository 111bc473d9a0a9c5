// End to end through the real supervisor and real child processes, with fixture candidates
// that really cheat, crash or diverge. Tiny budgets and a small dev evaluation keep it fast.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentResult } from '../../trainer/result.js';
import type { ExperimentOptions } from '../../trainer/supervisor.js';
import { copyCheckout, expectFailure, onDisk, runHarness } from './run-harness.js';

const run = (fixture: string, over: Partial<ExperimentOptions> = {}) => runHarness(fixture, over);

describe('harness end to end', () => {
  it('trains an honest candidate and scores what it learned', async () => {
    const { result, outDir } = await run('tiny.ts', { budgetSeconds: 3 });
    expect(result.failure).toBeNull();
    expect(onDisk(outDir)).toEqual(result);
    // an untrained table scores about 8.0; how far below depends on the steps this machine managed
    expect(result.val_bpb).toBeLessThan(7.9);
    expect(result.loss_curve.at(-1)!.loss).toBeLessThan(result.loss_curve[0].loss);
    expect(result.unigram_bpb).toBeGreaterThan(result.bigram_bpb);
    expect(result.steps).toBeGreaterThan(2);
    expect(result.tokens).toBe(result.steps * 8 * 16);
    expect(result.backend).toBe('wasm');
    expect(result.hardware_class).toMatch(/^cpu-/);
    expect(result.eval_bytes).toBe(Math.floor((4096 - 1) / 16) * 16);
    expect(result.params).toBe(256 * 256);
    expect(result.peak_memory_mb).toBeGreaterThan(20);
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).toMatch(/the clock starts/);
    // measured by the supervisor: the phases, the calibration on both sides of training, the probe
    expect(result.timings).toMatchObject({ train: expect.any(Number), eval: expect.any(Number), probe: expect.any(Number) });
    expect(result.timings!.train).toBeGreaterThanOrEqual(3);
    expect(result.timings!.stop).toBeLessThan(2.5);
    expect(result.calibration).toMatchObject({ workload: 'matmul-256x256x256x10@wasm' });
    expect(result.calibration!.before_gflops).toBeGreaterThan(0);
    expect(result.calibration!.after_gflops).toBeGreaterThan(0);
    expect(result.causality).toMatchObject({ probe_rows: 32, tolerance: 1e-3 });
    expect(result.causality!.max_logprob_diff).toBeLessThan(1e-5);
  });

  it('scores a uniform model at exactly 8.0 through the whole pipeline', async () => {
    const { result } = await run('uniform.ts', { budgetSeconds: 0.5 });
    expect(result.failure).toBeNull();
    expect(result.val_bpb).toBe(8);
  });

  it('gives the same losses for the first steps with the same seed and backend, warm-up or not', async () => {
    const first = (r: ExperimentResult) => r.loss_curve.slice(0, 3).map((p) => p.loss);
    // only the first three steps count: budgets of a second or two leave dozens on a loaded machine
    const a = (await run('tiny.ts', { budgetSeconds: 1 })).result;
    expect(first(a)).toHaveLength(3);
    // the second run also warms up on random tokens (inside its budget), then restarts from the seed's weights
    const b = (await run('tiny.ts', { budgetSeconds: 2, warmupSteps: 5 })).result;
    expect(first(b)).toEqual(first(a));
    const c = (await run('tiny.ts', { budgetSeconds: 1, seed: 8 })).result;
    expect(first(c)).not.toEqual(first(a));
  }, 300_000);

  it('rejects a non-causal candidate (its prediction at t reads byte t+1)', async () => {
    const { result, outDir } = await run('noncausal.ts');
    expectFailure(result, outDir, 'non_causal', /moved by .* when only bytes after position \d+ of the window changed, in a separate evaluation process/);
  });

  it('fails a candidate whose loss becomes NaN', async () => {
    const { result, outDir } = await run('nan.ts', { budgetSeconds: 30 });
    expectFailure(result, outDir, 'nan', /loss became NaN/);
  });

  it('kills a candidate that ignores the stop signal after the grace', async () => {
    const { result, outDir } = await run('ignores-stop.ts');
    expectFailure(result, outDir, 'timeout', /did not stop within 2\.\d+s of the end of its budget/);
  });

  it('fails a candidate that throws', async () => {
    const { result, outDir } = await run('throws.ts', { budgetSeconds: 30 });
    expectFailure(result, outDir, 'crash', /boom: the optimizer state is broken/);
  });

  it('fails a candidate that changes the clock', async () => {
    const { result, outDir } = await run('clock.ts', { budgetSeconds: 30 });
    expectFailure(result, outDir, 'tamper', /replaced performance\.now/);
  });

  it('fails a candidate that writes the result file, and keeps its own', async () => {
    const { result, outDir } = await run('writes-result.ts', { budgetSeconds: 1 });
    expectFailure(result, outDir, 'tamper', /created result\.json in the output directory/);
  });

  it('fails a candidate that edits the harness in its checkout', async () => {
    // its own copy: the fixture edits it
    const { result, outDir } = await run('edits-harness.ts', { repoDir: copyCheckout('harness-tamper-test-') });
    expectFailure(result, outDir, 'tamper', /harness files under trainer\/ changed during the run: trainer\/bpb\.ts\./);
  });

  it('kills a candidate over the memory cap', async () => {
    const { result, outDir } = await run('oom.ts', { memoryMb: 400, budgetSeconds: 20 });
    expectFailure(result, outDir, 'oom', /over the memory cap of 400 MB/);
  });

  it('says what is missing when a file does not implement the interface', async () => {
    const { result, outDir } = await run('no-export.ts', { budgetSeconds: 1 });
    expectFailure(result, outDir, 'invalid_candidate', /must export a function createModel/);
    expect(existsSync(join(outDir, 'train.log'))).toBe(true);
  });
});
