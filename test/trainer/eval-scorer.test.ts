import { describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VOCAB } from '../../trainer/bpb.js';
import { devWindows } from '../../trainer/data/windows.js';
import { LogitsScorer } from '../../trainer/eval-scorer.js';
import { planProbes, type ProbePlan } from '../../trainer/probes.js';

const T = 4;
const val = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) % 256);
const evalSet = devWindows(val, 100, T);

/** A causal "model": the logits at t favour byte x[t] + 1 by `boost` (no look-ahead). */
function causalLogits(plan: ProbePlan, boost = Math.log(3)): Float32Array {
  const out = new Float32Array(plan.inputRows * T * VOCAB);
  for (let i = 0; i < plan.inputRows * T; i++) out[i * VOCAB + ((plan.input[i] + 1) % VOCAB)] = boost;
  return out;
}

function scorer(plan: ProbePlan, logits: Float32Array, chunks: number[]): LogitsScorer {
  const path = join(mkdtempSync(join(tmpdir(), 'scorer-')), 'logits.bin');
  writeFileSync(path, '');
  const s = new LogitsScorer(path, plan, evalSet);
  const rowFloats = T * VOCAB;
  let done = 0;
  for (const upto of chunks) {
    appendFileSync(path, Buffer.from(logits.buffer, done * rowFloats * 4, (upto - done) * rowFloats * 4));
    s.consume(upto + 5); // the child may claim more than it wrote: only what is on disk counts
    done = upto;
  }
  return s;
}

describe('streaming scorer', () => {
  it('scores real rows only, in whatever order and chunks they arrive', () => {
    const plan = planProbes(evalSet, 6);
    const logits = causalLogits(plan);
    const s = scorer(plan, logits, [3, 10, plan.inputRows]);
    // every target is x[t]+1 except where the data says otherwise; compute the hand value
    let bits = 0;
    for (let r = 0; r < evalSet.rows; r++) {
      for (let t = 0; t < T; t++) {
        const hit = evalSet.y[r * T + t] === (evalSet.x[r * T + t] + 1) % VOCAB;
        bits += hit ? Math.log2(258 / 3) : Math.log2(258);
      }
    }
    const got = s.finish();
    expect('bpb' in got && got.bpb).toBeCloseTo(bits / (evalSet.rows * T), 6);
  });

  it('finds a non-causal model through the hidden probe rows', () => {
    const plan = planProbes(evalSet, 6);
    const logits = causalLogits(plan);
    // make position 0 of every row depend on the last byte of the row (a peek ahead)
    for (let row = 0; row < plan.inputRows; row++) logits[row * T * VOCAB + plan.input[row * T + T - 1]] += 5;
    expect(scorer(plan, logits, [plan.inputRows]).finish()).toMatchObject({ kind: 'non_causal' });
  });

  it('fails NaN logits and a short file', () => {
    const plan = planProbes(evalSet, 2);
    const bad = causalLogits(plan);
    bad[7] = Number.NaN;
    expect(scorer(plan, bad, [plan.inputRows]).finish()).toMatchObject({ kind: 'nan' });
    expect(scorer(plan, causalLogits(plan), [plan.inputRows - 1]).finish()).toMatchObject({
      kind: 'crash',
      message: `the eval process wrote logits for ${plan.inputRows - 1} of ${plan.inputRows} rows.`,
    });
  });

  it('hides probe rows: each is a real row with the bytes after t changed', () => {
    const plan = planProbes(evalSet, 5);
    expect(plan.inputRows).toBe(evalSet.rows + 5);
    for (const p of plan.probes) {
      const real = plan.input.subarray(plan.realRow[p.real] * T, plan.realRow[p.real] * T + T);
      const probe = plan.input.subarray(p.probeRow * T, p.probeRow * T + T);
      expect([...probe.subarray(0, p.t + 1)]).toEqual([...real.subarray(0, p.t + 1)]);
      for (let i = p.t + 1; i < T; i++) expect(probe[i]).not.toBe(real[i]);
    }
  });
});
