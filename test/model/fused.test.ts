// The harness's fused ops (tf.fused) against their plain-tfjs equivalents, values and
// gradients, on both backends that have them; the thread pool against one thread; and the
// default model's first losses against those of the written-out model it replaced.
import { afterAll, describe, expect, it } from '@jest/globals';
import type * as tfc from '@tensorflow/tfjs-core';
import { loadBackend } from '../../trainer/backend.js';
import type { DeviceInfo, TF } from '../../trainer/candidate-api.js';
import { plain } from '../../trainer/kernels/fused.js';
import { simdBatchMatMul, type MatmulShape } from '../../trainer/kernels/simd-matmul.js';
import { attentionBackward, attentionForward } from '../../trainer/kernels/attention.js';
import { splitCalls, usePool, type KernelCall } from '../../trainer/kernels/threads.js';
import { createModel } from '../../trainer/train.js';

let seed = 7;
const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1) * scale);

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / scale;
}

afterAll(async () => {
  await usePool(); // back to the default for other files in this worker
});

/** value and gradient (w.r.t. every float input, of sum(out * weights)) of f and its plain version agree */
function expectSameAsPlain(tf: TF, inputs: tfc.Tensor[], fusedOp: (...x: tfc.Tensor[]) => tfc.Tensor, plainOp: (...x: tfc.Tensor[]) => tfc.Tensor, tol = 1e-5) {
  const floats = inputs.map((t, i) => (t.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  const shape = plainOp(...inputs).shape;
  const w = tf.tensor(rand(shape.reduce((a, b) => a * b, 1)), shape);
  const grads = (op: typeof fusedOp) => {
    const out = op(...inputs);
    const g = tf.grads((...xs: tfc.Tensor[]) => {
      const all = inputs.slice();
      floats.forEach((i, j) => (all[i] = xs[j]));
      return tf.sum(tf.mul(op(...all), w));
    })(floats.map((i) => inputs[i]));
    return { out: out.dataSync(), grads: g.map((t) => t.dataSync()) };
  };
  const a = grads(fusedOp);
  const b = grads(plainOp);
  expect(maxRelDiff(a.out, b.out)).toBeLessThan(tol);
  a.grads.forEach((g, i) => expect(maxRelDiff(g, b.grads[i])).toBeLessThan(tol));
}

describe.each(['wasm', 'cpu'] as const)('tf.fused on %s', (backend) => {
  it.each([
    [2, 5, 12, 2], // T and D not multiples of 8: padded
    [3, 16, 32, 2],
    [2, 64, 64, 4], // the default model's heads
  ])('causalAttention (B=%i T=%i C=%i H=%i) equals the plain version, forward and backward', async (B, T, C, H) => {
    const { tf, kernels } = await loadBackend(backend);
    expect(kernels).toContain(`FusedCausalAttention@${backend}`);
    const qkv = tf.tensor2d(rand(B * T * 3 * C), [B * T, 3 * C]);
    expectSameAsPlain(tf, [qkv], (x) => tf.fused.causalAttention(x as tfc.Tensor2D, H, T), (x) => plain.causalAttention(x as tfc.Tensor2D, H, T));
  });

  it('causalAttention is causal: later positions do not change earlier outputs', async () => {
    const { tf } = await loadBackend(backend);
    const [T, C] = [12, 8];
    const x = rand(T * 3 * C);
    const y = x.slice();
    for (let i = 7 * 3 * C; i < y.length; i++) y[i] += 1; // positions 7.. change
    const a = tf.fused.causalAttention(tf.tensor2d(x, [T, 3 * C]), 2, T).dataSync();
    const b = tf.fused.causalAttention(tf.tensor2d(y, [T, 3 * C]), 2, T).dataSync();
    expect(Array.from(a.slice(0, 7 * C))).toEqual(Array.from(b.slice(0, 7 * C)));
    expect(maxRelDiff(a.slice(7 * C), b.slice(7 * C))).toBeGreaterThan(1e-3);
  });

  it('crossEntropy, rmsNorm, reluSquared and embedding equal the plain versions, forward and backward', async () => {
    const { tf } = await loadBackend(backend);
    const logits = tf.tensor2d(rand(6 * 10, 3), [6, 10]);
    const targets = tf.tensor2d([0, 9, 3, 3, 5, 1], [2, 3], 'int32');
    expectSameAsPlain(tf, [logits, targets], (z, t) => tf.fused.crossEntropy(z as tfc.Tensor2D, t), (z, t) => plain.crossEntropy(z as tfc.Tensor2D, t));
    const x = tf.tensor2d(rand(7 * 12), [7, 12]);
    expectSameAsPlain(tf, [x], (a) => tf.fused.rmsNorm(a, 1e-5), (a) => plain.rmsNorm(a, 1e-5));
    expectSameAsPlain(tf, [x], (a) => tf.fused.reluSquared(a), (a) => plain.reluSquared(a));
    const odd = tf.tensor2d(rand(5 * 3), [5, 3]); // not a multiple of 4: the scalar tails
    expectSameAsPlain(tf, [odd], (a) => tf.fused.rmsNorm(a, 1e-5), (a) => plain.rmsNorm(a, 1e-5));
    expectSameAsPlain(tf, [odd], (a) => tf.fused.reluSquared(a), (a) => plain.reluSquared(a));
    const wte = tf.tensor2d(rand(9 * 4), [9, 4]);
    const wpe = tf.tensor2d(rand(6 * 4), [6, 4]);
    const ids = tf.tensor2d([1, 8, 8, 0, 2, 2, 2, 5], [2, 4], 'int32');
    expectSameAsPlain(tf, [wte, wpe, ids], (a, b, i) => tf.fused.embedding(a as tfc.Tensor2D, b as tfc.Tensor2D, i as tfc.Tensor2D), (a, b, i) => plain.embedding(a as tfc.Tensor2D, b as tfc.Tensor2D, i as tfc.Tensor2D));
  });

  it('adamW over all parameters in one call equals the written-out update', async () => {
    const { tf } = await loadBackend(backend);
    const shapes = [[3, 4], [5], [2, 2]];
    const make = () => shapes.map((s, i) => tf.variable(tf.tensor(rand(s.reduce((a, b) => a * b), 1), s), false, `adamw-${backend}-${i}-${seed}`));
    const p1 = make();
    const p2 = p1.map((p) => tf.variable(p.clone(), false));
    const zeros = () => p1.map((p) => tf.variable(tf.zerosLike(p), false));
    const [m1, v1, m2, v2] = [zeros(), zeros(), zeros(), zeros()];
    for (let step = 1; step <= 3; step++) {
      const g = shapes.map((s) => tf.tensor(rand(s.reduce((a, b) => a * b)), s));
      const o = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: [0.1, 0, 0.1], step };
      tf.fused.adamW(p1, g, m1, v1, o);
      plain.adamW(p2, g, m2, v2, o);
    }
    p1.forEach((p, i) => expect(maxRelDiff(p.dataSync(), p2[i].dataSync())).toBeLessThan(1e-6));
    m1.forEach((m, i) => expect(maxRelDiff(m.dataSync(), m2[i].dataSync())).toBeLessThan(1e-6));
  });

  it('says what is wrong with bad inputs', async () => {
    const { tf } = await loadBackend(backend);
    expect(() => tf.fused.causalAttention(tf.zeros([10, 12]) as tfc.Tensor2D, 2, 3)).toThrow(/seqLen T dividing B\*T/);
    expect(() => tf.fused.causalAttention(tf.zeros([6, 12]) as tfc.Tensor2D, 3, 3)).toThrow(/heads \(3\) must divide the width 4/);
    expect(() => tf.fused.crossEntropy(tf.zeros([4, 3]) as tfc.Tensor2D, tf.zeros([4]))).toThrow(/targets int32 with N elements/);
  });
});

describe('the kernel thread pool', () => {
  it('splits calls into parts that cover every row once, in multiples of 4', () => {
    const calls: KernelCall[] = [
      [0, 0, 0, 64, 8, 16, 32, 4, 64, 64],
      [4096, 0, 8192, 8, 8, 16, 32, 4, 64, 64],
    ];
    for (const parts of [1, 2, 3, 8]) {
      const split = splitCalls(calls, parts);
      expect(split).toHaveLength(parts);
      const rows = new Map<number, number>();
      for (const c of split.flat()) {
        expect(c[3] % 4).toBe(0);
        for (let r = 0; r < c[3]; r++) rows.set(c[2] + r * c[9], (rows.get(c[2] + r * c[9]) ?? 0) + 1);
      }
      expect(rows.size).toBe(72);
      expect([...rows.values()].every((n) => n === 1)).toBe(true);
    }
  });

  it.each([2, 3])('gives exactly the single-threaded products with %i threads', async (threads) => {
    const shapes: MatmulShape[] = [
      { batchA: 1, batchB: 1, M: 2048, K: 64, N: 256, transposeA: false, transposeB: false },
      { batchA: 1, batchB: 1, M: 64, K: 2048, N: 256, transposeA: true, transposeB: false },
      { batchA: 12, batchB: 12, M: 13, K: 5, N: 9, transposeA: false, transposeB: true },
    ];
    for (const s of shapes) {
      const a = rand(s.batchA * s.M * s.K);
      const b = rand(s.batchB * s.K * s.N);
      const one = new Float32Array(Math.max(s.batchA, s.batchB) * s.M * s.N);
      const many = one.slice().fill(NaN);
      await usePool(1);
      simdBatchMatMul(a, b, s, one);
      await usePool(threads);
      simdBatchMatMul(a, b, s, many, threads);
      expect(Array.from(many)).toEqual(Array.from(one));
    }
  });
});

describe('the attention kernel on the thread pool', () => {
  it.each([2, 3])('gives exactly the single-threaded outputs and gradients with %i threads (planned products and softmaxes)', async (threads) => {
    for (const sh of [{ B: 4, T: 64, H: 4, D: 16 }, { B: 3, T: 13, H: 2, D: 5 }]) {
      const N = sh.B * sh.T;
      const C = sh.H * sh.D;
      const qkv = rand(N * 3 * C);
      const dy = rand(N * C);
      const once = () => {
        const y = new Float32Array(N * C).fill(NaN);
        const dqkv = new Float32Array(N * 3 * C).fill(NaN);
        const probs = attentionForward(qkv, y, sh, true)!;
        attentionBackward(dy, qkv, probs, dqkv, sh);
        return [Array.from(y), Array.from(dqkv)];
      };
      await usePool(1);
      const one = once();
      await usePool(threads);
      expect(once()).toEqual(one);
      expect(once()).toEqual(one); // the second call runs the kept plans
    }
  });
});

// The first losses of the default model from seed 11 on a fixed text, recorded from the
// written-out model (tfjs ops for attention, norm, loss and AdamW) before the fused kernels
// replaced it; wasm and cpu agreed to 3e-6.
const BEFORE = [5.5760698318481445, 5.549802303314209, 5.174953460693359, 4.916873455047607, 4.702115058898926, 4.517739295959473];

function firstLosses(tf: TF, device: DeviceInfo): number[] {
  const text = Buffer.from('The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise. ');
  const m = createModel(tf, 11, device);
  const [B, T] = [m.batchSize, m.contextLength];
  const out: number[] = [];
  for (let i = 0; i < BEFORE.length; i++) {
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        x[b * T + t] = text[(b * 7 + t + i * 3) % text.length];
        y[b * T + t] = text[(b * 7 + t + 1 + i * 3) % text.length];
      }
    const loss = m.trainStep(tf.tensor2d(x, [B, T], 'int32'), tf.tensor2d(y, [B, T], 'int32'), i / BEFORE.length);
    out.push(loss.dataSync()[0]);
  }
  tf.dispose(Object.values(m.variables()));
  return out;
}

describe('the default model on the fused kernels', () => {
  it.each([
    ['wasm', 1],
    ['wasm', 2],
    ['cpu', 2],
  ] as const)('gives the same first losses as before on %s with %i thread(s)', async (backend, threads) => {
    const be = await loadBackend(backend);
    await usePool(threads);
    const got = firstLosses(be.tf, { ...be.device, threads });
    for (let i = 0; i < BEFORE.length; i++) expect(Math.abs(got[i] - BEFORE[i]) / BEFORE[i]).toBeLessThan(1e-5);
  });
});
