// The harness's replacement kernels (trainer/kernels): same answers as a plain reference,
// on both backends they replace kernels of, for the shapes the default model uses and the
// awkward ones (padding, transposes, broadcast batches).
import { describe, expect, it } from '@jest/globals';
import type * as tfc from '@tensorflow/tfjs-core';
import { loadBackend } from '../../trainer/backend.js';
import { assembleMatmul, VARIANTS } from '../../trainer/kernels/build-wasm.js';
import * as binaries from '../../trainer/kernels/matmul-wasm.js';
import { simdBatchMatMul, type MatmulShape } from '../../trainer/kernels/simd-matmul.js';
import { RELAXED_SIMD } from '../../trainer/kernels/wasm-binary.js';

let seed = 1;
const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);

function reference(a: Float32Array, b: Float32Array, s: MatmulShape): Float32Array {
  const batch = Math.max(s.batchA, s.batchB);
  const out = new Float32Array(batch * s.M * s.N);
  for (let i = 0; i < batch; i++) {
    const ao = (s.batchA === 1 ? 0 : i) * s.M * s.K;
    const bo = (s.batchB === 1 ? 0 : i) * s.K * s.N;
    for (let m = 0; m < s.M; m++)
      for (let n = 0; n < s.N; n++) {
        let acc = 0;
        for (let k = 0; k < s.K; k++)
          acc += a[ao + (s.transposeA ? k * s.M + m : m * s.K + k)] * b[bo + (s.transposeB ? n * s.K + k : k * s.N + n)];
        out[(i * s.M + m) * s.N + n] = acc;
      }
  }
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

const SHAPES: MatmulShape[] = [
  { batchA: 1, batchB: 1, M: 64, K: 64, N: 256, transposeA: false, transposeB: false }, // the head
  { batchA: 8, batchB: 8, M: 16, K: 8, N: 16, transposeA: false, transposeB: true }, // q k^T
  { batchA: 8, batchB: 8, M: 16, K: 16, N: 8, transposeA: true, transposeB: false }, // p^T dy
  { batchA: 1, batchB: 1, M: 5, K: 3, N: 7, transposeA: true, transposeB: true }, // padding both ways
  { batchA: 3, batchB: 1, M: 6, K: 9, N: 10, transposeA: false, transposeB: false }, // B broadcast
  { batchA: 1, batchB: 4, M: 7, K: 2, N: 9, transposeA: true, transposeB: false }, // A broadcast
  { batchA: 2, batchB: 2, M: 1, K: 1, N: 1, transposeA: false, transposeB: false },
  { batchA: 1, batchB: 1, M: 12, K: 600, N: 16, transposeA: true, transposeB: false }, // K in chunks of 256 (a weight gradient)
  { batchA: 1, batchB: 1, M: 4, K: 0, N: 8, transposeA: false, transposeB: false }, // empty sums are zeros
];

describe('SIMD matmul (matmul.wat)', () => {
  it('the committed binaries are the assembled matmul.wat (run trainer/kernels/build-wasm.ts after editing it)', async () => {
    for (const [name, [shared, relaxed]] of Object.entries(VARIANTS)) expect(Buffer.from(await assembleMatmul(shared, relaxed)).toString('base64')).toBe(binaries[name as keyof typeof VARIANTS]);
  });

  it.each(SHAPES)('matches the reference: %o', (s) => {
    const a = rand(s.batchA * s.M * s.K);
    const b = rand(s.batchB * s.K * s.N);
    const out = new Float32Array(Math.max(s.batchA, s.batchB) * s.M * s.N).fill(NaN);
    simdBatchMatMul(a, b, s, out);
    expect(maxAbsDiff(out, reference(a, b, s))).toBeLessThan(1e-4);
  });

  it('the plain build (engines without relaxed SIMD) matches the reference too, in 6- and 4-row tiles and K chunks', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const mm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(binaries.MATMUL_PLAIN_WASM_BASE64, 'base64')), { env: { memory } }).exports.matmul as (...x: number[]) => void;
    const s: MatmulShape = { batchA: 1, batchB: 1, M: 16, K: 300, N: 16, transposeA: false, transposeB: false };
    const a = rand(s.M * s.K);
    const b = rand(s.K * s.N);
    const f = new Float32Array(memory.buffer);
    const [pa, pb, pc] = [0, s.M * s.K * 4, (s.M * s.K + s.K * s.N) * 4];
    f.set(a, pa / 4);
    f.set(b, pb / 4);
    mm(pa, pb, pc, s.M, s.K, s.N, s.K * 4, 4, s.N * 4, s.N * 4);
    expect(maxAbsDiff(f.subarray(pc / 4, pc / 4 + s.M * s.N), reference(a, b, s))).toBeLessThan(1e-4);
    expect(RELAXED_SIMD).toBe(WebAssembly.validate(Buffer.from(binaries.MATMUL_WASM_BASE64, 'base64')));
  });
});

describe.each(['cpu', 'wasm'] as const)('registered kernels on %s', (backend) => {
  it('tf.matMul goes through the replacement and agrees with the reference, batched and transposed', async () => {
    const { tf, kernels } = await loadBackend(backend);
    expect(kernels).toContain(`BatchMatMul@${backend}`);
    const a = rand(2 * 3 * 5 * 4);
    const b = rand(2 * 3 * 6 * 5);
    const got = tf.matMul(tf.tensor(a, [2, 3, 5, 4]), tf.tensor(b, [2, 3, 6, 5]), true, true);
    expect(got.shape).toEqual([2, 3, 4, 6]);
    const want = reference(a, b, { batchA: 6, batchB: 6, M: 4, K: 5, N: 6, transposeA: true, transposeB: true });
    expect(maxAbsDiff(got.dataSync(), want)).toBeLessThan(1e-5);
    // int32 is left to tfjs's own kernel (which wasm lacks)
    if (backend === 'wasm') return;
    const ints = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32'));
    expect(Array.from(ints.dataSync())).toEqual([19, 22, 43, 50]);
  });

  it('gather has a gradient (segment sum), ids out of range are dropped like tf does', async () => {
    const { tf } = await loadBackend(backend);
    const table = tf.variable(tf.tensor2d(rand(5 * 3), [5, 3]));
    const ids = tf.tensor1d([0, 4, 4, 2, 0, 0], 'int32');
    const g = tf.grad((t) => tf.sum(tf.mul(tf.gather(t, ids), tf.tensor2d(rand(6 * 3), [6, 3]))));
    seed = 99;
    const weights = rand(6 * 3);
    seed = 99;
    const grad = g(table).dataSync();
    const want = new Float32Array(15);
    [0, 4, 4, 2, 0, 0].forEach((row, r) => {
      for (let c = 0; c < 3; c++) want[row * 3 + c] += weights[r * 3 + c];
    });
    expect(maxAbsDiff(grad, want)).toBeLessThan(1e-6);
    const direct = tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([1, -1, 7], 'int32'), 2);
    expect(Array.from(direct.dataSync())).toEqual([0, 0, 1, 2]);
  });

  it('every kernel has its gradient registered (d/dA sum(A @ B) = 1 B^T)', async () => {
    const { tf } = await loadBackend(backend);
    const b = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const dA = tf.grad((a) => tf.sum(tf.matMul(a, b)))(tf.zeros([2, 2]));
    expect(Array.from(dA.dataSync())).toEqual([6, 15, 6, 15]);
  });

  it('Sum and Mean gradients (replaced: no ones tensor) broadcast dy over the reduced axes', async () => {
    const { tf } = await loadBackend(backend);
    const x = tf.tensor3d(rand(2 * 3 * 4), [2, 3, 4]);
    const w = tf.tensor3d([1, 2, 3, 4, 5, 6], [2, 3, 1]);
    const dMean = tf.grad((x) => tf.sum(tf.mul(tf.mean(x, -1, true), w)))(x).arraySync() as number[][][];
    expect(dMean[1][2]).toEqual([1.5, 1.5, 1.5, 1.5]);
    const dSum = tf.grad((x) => tf.sum(tf.mul(tf.sum(x, [0, 2]), tf.tensor1d([1, 2, 3]))))(x).arraySync() as number[][][];
    expect(dSum[1].map((r) => r[3])).toEqual([1, 2, 3]);
    const dAll = tf.grad((x) => tf.mean(x))(x).dataSync();
    expect(Math.max(...Array.from(dAll, (v) => Math.abs(v - 1 / 24)))).toBeLessThan(1e-7);
  });

  it('a saved-for-backward tensor survives its original being disposed (Identity shares buffers)', async () => {
    const { tf } = await loadBackend(backend);
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
  });

  it('saved tensors are cloned without a dispatch, and gradients through them (second order too) and memory are as before', async () => {
    const { tf } = await loadBackend(backend);
    const x = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numTensors;
    const f = (v: tfc.Tensor) => tf.sum(tf.mul(tf.mul(v, v), v)); // sum(x^3): each Multiply saves both inputs
    const profile = await tf.profile(() => tf.dispose(tf.grad(f)(x)));
    expect(profile.kernels.map((k) => k.name)).not.toContain('Identity'); // tfjs's own clone dispatches 4
    const g1 = tf.grad(f)(x);
    expect(Array.from(g1.dataSync())).toEqual([3, 12, 27]);
    const g2 = tf.grad((v: tfc.Tensor) => tf.grad(f)(v))(x); // d/dx of sum(3 x^2) = 6 x
    expect(Array.from(g2.dataSync())).toEqual([6, 12, 18]);
    tf.dispose([g1, g2]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('cpu fast paths agree with the wasm backend (whose kernels for these are tfjs-own)', () => {
  it('broadcasting arithmetic, softmax and rank-4 transposes', async () => {
    type Case = (tf: typeof import('@tensorflow/tfjs-core')) => import('@tensorflow/tfjs-core').Tensor;
    seed = 7;
    const x = rand(6 * 5 * 4 * 8);
    const y = rand(6 * 5 * 4 * 8);
    const cases: Record<string, Case> = {
      same: (tf) => tf.div(tf.tensor2d(x, [120, 8]), tf.add(tf.tensor2d(y, [120, 8]), 3)),
      row: (tf) => tf.sub(tf.tensor2d(x.slice(0, 120), [120, 1]), tf.tensor2d(y, [120, 8])),
      column: (tf) => tf.mul(tf.tensor3d(x, [24, 5, 8]), tf.tensor1d(y.slice(0, 8))),
      scalar: (tf) => tf.sub(2, tf.tensor3d(x, [24, 5, 8])),
      general: (tf) => tf.add(tf.tensor3d(x.slice(0, 24), [4, 1, 6]), tf.tensor3d(y.slice(0, 30), [1, 5, 6])),
      softmax: (tf) => tf.softmax(tf.tensor3d(x, [24, 5, 8])),
      heads: (tf) => tf.transpose(tf.tensor4d(x, [6, 5, 4, 8]), [0, 2, 1, 3]),
      other: (tf) => tf.transpose(tf.tensor4d(x, [6, 5, 4, 8]), [3, 1, 0, 2]),
    };
    const results: Record<string, Record<string, number[]>> = {};
    for (const backend of ['cpu', 'wasm'] as const) {
      const { tf } = await loadBackend(backend);
      results[backend] = Object.fromEntries(Object.entries(cases).map(([k, f]) => [k, Array.from(f(tf as never).dataSync())]));
    }
    for (const k of Object.keys(cases)) expect([k, maxAbsDiff(results.cpu[k], results.wasm[k]) < 1e-5]).toEqual([k, true]);
  });
});
