// The default candidate (trainer/train.ts) on the harness's own backend setup (wasm, with
// the harness's kernels): the properties the harness and the probes rely on.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadBackend } from '../../trainer/backend.js';
import type { TF } from '../../trainer/candidate-api.js';
import { createModel } from '../../trainer/train.js';

let tf: TF;
beforeAll(async () => {
  ({ tf } = await loadBackend('wasm'));
});

/** A deterministic batch of "text": bytes from a fixed sentence at different offsets. */
function batch(B: number, T: number, shift = 0): [Int32Array, Int32Array] {
  const text = Buffer.from('The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise. ');
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      x[b * T + t] = text[(b * 7 + t + shift) % text.length];
      y[b * T + t] = text[(b * 7 + t + 1 + shift) % text.length];
    }
  return [x, y];
}

function losses(seed: number, steps: number): number[] {
  const m = createModel(tf, seed);
  const [xs, ys] = batch(m.batchSize, m.contextLength);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = tf.tensor2d(xs, [m.batchSize, m.contextLength], 'int32');
    const y = tf.tensor2d(ys, [m.batchSize, m.contextLength], 'int32');
    const loss = m.trainStep(x, y, i / steps);
    out.push(loss.dataSync()[0]);
    tf.dispose([x, y, loss]);
  }
  tf.dispose(Object.values(m.variables()));
  return out;
}

describe('default GPT (trainer/train.ts)', () => {
  it('has the documented shapes: [N, T] bytes in, [N, T, 256] logits out, a scalar loss', () => {
    const m = createModel(tf, 1);
    expect(m.contextLength).toBeGreaterThan(0);
    expect(m.batchSize).toBeGreaterThan(0);
    const x = tf.tensor2d(batch(3, m.contextLength)[0], [3, m.contextLength], 'int32');
    const logits = m.logits(x);
    expect(logits.shape).toEqual([3, m.contextLength, 256]);
    // shorter windows than the context also work (the probes and evaluation may use them)
    const short = m.logits(tf.slice(x, [0, 0], [2, 10]));
    expect(short.shape).toEqual([2, 10, 256]);
    const [xs, ys] = batch(m.batchSize, m.contextLength);
    const loss = m.trainStep(tf.tensor2d(xs, [m.batchSize, m.contextLength], 'int32'), tf.tensor2d(ys, [m.batchSize, m.contextLength], 'int32'), 0);
    expect(loss.shape).toEqual([]);
    // an untrained byte model is close to uniform: ln(256) = 5.55 nats
    expect(Math.abs(loss.dataSync()[0] - Math.log(256))).toBeLessThan(0.5);
  });

  it('is causal: changing byte t leaves the logits at positions before t unchanged', () => {
    const m = createModel(tf, 2);
    const T = m.contextLength;
    const [xs] = batch(2, T);
    const changed = xs.slice();
    const t = 37;
    changed[t] = (changed[t] + 101) % 256; // row 0
    changed[T + T - 1] = (changed[T + T - 1] + 3) % 256; // row 1, last byte
    const a = m.logits(tf.tensor2d(xs, [2, T], 'int32')).arraySync() as number[][][];
    const b = m.logits(tf.tensor2d(changed, [2, T], 'int32')).arraySync() as number[][][];
    const maxDiff = (r: number, from: number, to: number) => {
      let d = 0;
      for (let p = from; p < to; p++) for (let v = 0; v < 256; v++) d = Math.max(d, Math.abs(a[r][p][v] - b[r][p][v]));
      return d;
    };
    expect(maxDiff(0, 0, t)).toBe(0);
    expect(maxDiff(1, 0, T - 1)).toBe(0);
    // and the change is seen from t on (the test would pass vacuously on a constant model)
    expect(maxDiff(0, t, T)).toBeGreaterThan(1e-4);
  });

  it('learns: the loss on a repeated batch goes down over a few steps', () => {
    const l = losses(3, 8);
    expect(l[7]).toBeLessThan(l[0] - 0.5);
  });

  it('is deterministic from the seed: same seed, same first losses; another seed, others', () => {
    const a = losses(4, 3);
    expect(losses(4, 3)).toEqual(a);
    expect(losses(5, 3)[0]).not.toEqual(a[0]);
  });

  it('round-trips its variables: assigning them into a fresh model gives the same logits', () => {
    const trained = createModel(tf, 6);
    const [xs, ys] = batch(trained.batchSize, trained.contextLength);
    const shape: [number, number] = [trained.batchSize, trained.contextLength];
    for (let i = 0; i < 2; i++) trained.trainStep(tf.tensor2d(xs, shape, 'int32'), tf.tensor2d(ys, shape, 'int32'), 0.5).dispose();
    const fresh = createModel(tf, 7);
    const saved = trained.variables();
    const target = fresh.variables();
    expect(Object.keys(target).sort()).toEqual(Object.keys(saved).sort());
    const x = tf.tensor2d(xs.slice(0, 2 * shape[1]), [2, shape[1]], 'int32');
    const before = fresh.logits(x).dataSync();
    for (const [name, v] of Object.entries(saved)) target[name].assign(v);
    const want = trained.logits(x).dataSync();
    const got = fresh.logits(x).dataSync();
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(Array.from(before)).not.toEqual(Array.from(want));
  });
});
