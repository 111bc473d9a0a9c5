import { describe, expect, it } from '@jest/globals';
import { VOCAB } from '../../trainer/bpb.js';
import { devWindows } from '../../trainer/data/windows.js';
import { EvalScorer } from '../../trainer/eval-scorer.js';
import { CAUSAL_ATOL, planEval, type EvalPlan } from '../../trainer/probes.js';

const T = 8;
const text = Buffer.from('the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(20));
const evalSet = devWindows(new Uint8Array(text), 1200, T);
const BATCH = 4;

/** A "model" over a block of rows: logits at (row, t) from `f(row bytes, t)` -> 256 values. */
type Model = (row: Uint8Array, t: number, out: Float32Array) => void;

/** Causal: favours byte x[t] + 1 at t (reads only byte t). */
const causal: Model = (row, t, out) => {
  out[(row[t] + 1) % VOCAB] = Math.log(3);
};

function run(plan: EvalPlan, model: (pass: 'scored' | 'probe') => Model, scorer = new EvalScorer(plan, evalSet)) {
  for (const pass of ['scored', 'probe'] as const) {
    const input = pass === 'scored' ? plan.scored : plan.probe;
    const rows = input.length / T;
    const m = model(pass);
    for (let r = 0; r < rows; r += BATCH) {
      const n = Math.min(BATCH, rows - r);
      const chunk = new Float32Array(n * T * VOCAB);
      for (let k = 0; k < n; k++) {
        const row = input.subarray((r + k) * T, (r + k + 1) * T);
        for (let t = 0; t < T; t++) m(row, t, chunk.subarray((k * T + t) * VOCAB, (k * T + t + 1) * VOCAB));
      }
      if (pass === 'scored') scorer.scored(chunk, n);
      else scorer.probe(chunk, n);
    }
  }
  return scorer.finish();
}

describe('evaluation plan and scorer', () => {
  it('scores every real row once, in whatever order the scored pass holds them', () => {
    const plan = planEval(evalSet, BATCH);
    let bits = 0;
    for (let i = 0; i < evalSet.rows * T; i++) bits += evalSet.y[i] === (evalSet.x[i] + 1) % VOCAB ? Math.log2(258 / 3) : Math.log2(258);
    const got = run(plan, () => causal);
    expect('bpb' in got && got.bpb).toBeCloseTo(bits / (evalSet.rows * T), 6);
    expect('bpb' in got && got.maxProbeDiff).toBeLessThan(1e-6);
  });

  it('covers every cut point once on different windows, with real text after the cut, in whole batches', () => {
    const plan = planEval(evalSet, BATCH);
    expect(plan.scoredRows % BATCH).toBe(0);
    expect(plan.probes.length % BATCH).toBe(0);
    const cuts = plan.probes.map((p) => p.cut);
    for (let t = 0; t < T; t++) expect(cuts).toContain(t);
    const firstOfEachCut = new Map<number, number>();
    plan.probes.forEach((p) => firstOfEachCut.has(p.cut) || firstOfEachCut.set(p.cut, p.original));
    expect(new Set(firstOfEachCut.values()).size).toBe(T);
    const corpus = text.toString('latin1');
    plan.probes.forEach((p, k) => {
      const probe = plan.probe.subarray(k * T, (k + 1) * T);
      const orig = evalSet.x.subarray(p.original * T, (p.original + 1) * T);
      expect([...probe.subarray(0, p.cut + 1)]).toEqual([...orig.subarray(0, p.cut + 1)]);
      if (p.cut === T - 1) return;
      expect(probe[p.cut + 1]).not.toBe(orig[p.cut + 1]);
      // the tail is text that occurs in the corpus, not random bytes
      expect(corpus).toContain(Buffer.from(probe.subarray(p.cut + 1)).toString('latin1'));
    });
  });

  it('catches a look-ahead hidden under a constant shift of the logits (raw logits would have moved by far more than the leak)', () => {
    const plan = planEval(evalSet, BATCH);
    const shiftPeek: Model = (row, t, out) => {
      out.fill(1000);
      causal(row, t, out);
      if (t + 1 < T) out[row[t + 1]] += 0.01; // a tiny look at the next byte
      for (let v = 0; v < VOCAB; v++) out[v] += 1000;
    };
    expect(run(plan, () => shiftPeek)).toMatchObject({ kind: 'non_causal', message: expect.stringMatching(/moved by 0\.01/) });
  });

  it('catches a leak at one single position in every plan', () => {
    for (let trial = 0; trial < 8; trial++) {
      const plan = planEval(evalSet, BATCH);
      const leak: Model = (row, t, out) => {
        causal(row, t, out);
        if (t === 3) out[row[4]] += 2;
      };
      expect(run(plan, () => leak)).toMatchObject({ kind: 'non_causal', message: expect.stringMatching(/at position 3 /) });
    }
  });

  it('catches a scored pass that answers differently from the probe pass (state, batch neighbours, a lookup)', () => {
    const plan = planEval(evalSet, BATCH);
    const cheatScored = (pass: 'scored' | 'probe'): Model => (row, t, out) => {
      causal(row, t, out);
      if (pass === 'scored' && t + 1 < T) out[row[t + 1]] += 3;
    };
    expect(run(plan, cheatScored)).toMatchObject({ kind: 'non_causal' });
  });

  it('catches the last position reading another row of its batch (no cut after it: the whole window in another batch), on nearly every draw of the plan', () => {
    // The plan is drawn at random (the supervisor's unseeded generator). On this test's text, which
    // repeats every 86 bytes, the row beside the probe in the probe pass sometimes starts with the
    // same byte as the row beside it in the scored pass, and the leak then answers the same: 94% of
    // 300 draws caught it. So the test draws 40 plans from a fixed seed, not one unseeded plan
    // (which failed about one run in 16).
    let x = 12345;
    const random = (n: number) => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0), x % n);
    const results = Array.from({ length: 40 }, () => {
      const plan = planEval(evalSet, BATCH, random);
      let prevFirst = 0; // the first byte of the row before it
      const neighbour: Model = (row, t, out) => {
        causal(row, t, out);
        if (t === T - 1) {
          out[prevFirst] += 2;
          prevFirst = row[0];
        }
      };
      return run(plan, () => neighbour);
    });
    const caught = results.filter((r) => 'kind' in r && r.kind === 'non_causal');
    expect(caught.length).toBeGreaterThanOrEqual(34);
    for (const r of caught) expect(r).toMatchObject({ message: expect.stringMatching(new RegExp(`at position ${T - 1} `)) });
  });

  it('allows float noise below the tolerance and refuses just above it', () => {
    const plan = planEval(evalSet, BATCH);
    const noisy = (eps: number) => (pass: 'scored' | 'probe'): Model => (row, t, out) => {
      causal(row, t, out);
      if (pass === 'probe') out[0] += eps;
    };
    expect(run(plan, noisy(CAUSAL_ATOL / 2))).toHaveProperty('bpb');
    expect(run(plan, noisy(CAUSAL_ATOL * 3))).toMatchObject({ kind: 'non_causal' });
  });

  it('fails NaN logits and a pass that stopped short', () => {
    const plan = planEval(evalSet, BATCH);
    const nan: Model = (row, t, out) => {
      causal(row, t, out);
      if (t === 2) out[5] = Number.NaN;
    };
    expect(run(plan, () => nan)).toMatchObject({ kind: 'nan' });
    const s = new EvalScorer(plan, evalSet);
    s.scored(new Float32Array(BATCH * T * VOCAB), BATCH);
    expect(s.finish()).toMatchObject({ kind: 'crash', message: expect.stringMatching(new RegExp(`answered ${BATCH} of ${plan.scoredRows} scored rows`)) });
  });
});
