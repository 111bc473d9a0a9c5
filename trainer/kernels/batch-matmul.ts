// The BatchMatMul kernel of the cpu and wasm backends, replaced by the SIMD kernel.
// tfjs's own: wasm runs batched and transposed-operand matmuls at 1-3 GFLOP/s (plain 2D
// at ~10), cpu at ~0.2; the SIMD kernel runs 25-40 (figures from bench-step.ts). Shapes
// it does not cover (non-float32, batch broadcasting other than 1 vs n) go to the original.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backendIo } from './backend-io.js';
import { simdBatchMatMul } from './simd-matmul.js';

export function batchMatMulConfig(backendName: string, original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const sameBatch = batchA === batchB && ra === rb;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || K !== kB || !(sameBatch || batchA === 1 || batchB === 1))
      return original(args);
    const outer = ra >= rb ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    const io = backendIo(backendName, args.backend);
    // inputs are read only once the output exists: allocating it may grow (and detach) the wasm heap
    return io.output([...outer, M, N], (out) =>
      simdBatchMatMul(io.read(a) as Float32Array, io.read(b) as Float32Array, { batchA, batchB, M, K, N, transposeA, transposeB }, out),
    );
  };
  return { kernelName: tf.BatchMatMul, backendName, kernelFunc };
}
