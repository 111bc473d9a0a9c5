// The BatchMatMul kernel of the cpu and wasm backends, replaced by the SIMD kernel.
// tfjs's own: wasm runs batched and transposed-operand matmuls at 1-3 GFLOP/s (plain 2D
// at ~10), cpu at ~0.2; the SIMD kernel runs 20-35 (figures from bench-step.ts and the
// report). Shapes it does not cover (non-float32, batch broadcasting other than 1 vs n)
// go to the original.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backendIo } from './backend-io.js';
import { heapBatchMatMul, simdBatchMatMul, type Heap } from './simd-matmul.js';
import { poolThreads } from './threads.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the wasm backend's internals are untyped */
function wasmHeap(backend: any): Heap {
  return {
    memory: backend.wasm.asm.memory,
    alloc: (bytes) => backend.wasm._malloc(bytes),
    free: (ptr) => backend.wasm._free(ptr),
  };
}
const offset = (backend: any, t: TensorInfo): number => backend.dataIdMap.get(t.dataId).memoryOffset;

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
    const shape = [...(ra >= rb ? a.shape : b.shape).slice(0, -2), M, N];
    const s = { batchA, batchB, M, K, N, transposeA, transposeB };
    const backend = args.backend as any;
    if (backendName === 'wasm' && poolThreads() === 1) {
      const out = backend.makeOutput(shape, 'float32');
      if (M * N > 0) heapBatchMatMul(wasmHeap(backend), offset(backend, a), offset(backend, b), offset(backend, out), s);
      return out;
    }
    const io = backendIo(backendName, backend);
    return io.output(shape, (out) => simdBatchMatMul(io.read(a) as Float32Array, io.read(b) as Float32Array, s, out));
  };
  return { kernelName: tf.BatchMatMul, backendName, kernelFunc };
}
