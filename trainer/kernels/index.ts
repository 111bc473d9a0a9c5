// Harness-side (trusted) setup of tfjs for training: gradients for every kernel, then
// faster kernels for the hot ops of the default model where tfjs's own are slow or absent.
// Candidates cannot register kernels; the harness calls this once after tf.setBackend().
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-matmul.js';
import { registerAllGradients } from './gradients.js';
import { binaryConfig, CPU_BINARY_KERNELS, softmaxConfig, transposeConfig } from './cpu-elementwise.js';
import { registerFusedKernels } from './fused.js';
import { gatherConfig } from './gather.js';
import { identityConfig, installCheapClone } from './identity.js';
import { registerReduceGradients } from './reduce-grads.js';
import { segmentSumConfig } from './segment-sum.js';
import { usePool } from './threads.js';
import { makeWebGpuDeterministic } from './webgpu-determinism.js';

type Replacement = (backendName: string, original: KernelFunc | undefined) => KernelConfig | null;
const REPLACEMENTS: Record<string, Replacement> = {
  [tf.BatchMatMul]: (name, original) => (original ? batchMatMulConfig(name, original) : null),
  [tf.UnsortedSegmentSum]: segmentSumConfig,
  // the cpu backend's Identity already shares buffers
  [tf.Identity]: (name, original) => (name === 'wasm' && original ? identityConfig(name, original) : null),
  [tf.GatherV2]: (name, original) => (name === 'wasm' && original ? gatherConfig(name, original) : null),
  [tf.Softmax]: (name, original) => (name === 'cpu' && original ? softmaxConfig(original) : null),
  [tf.Transpose]: (name, original) => (name === 'cpu' && original ? transposeConfig(original) : null),
  ...Object.fromEntries(
    CPU_BINARY_KERNELS.map((k): [string, Replacement] => [k, (name, original) => (name === 'cpu' && original ? binaryConfig(k, original) : null)]),
  ),
};
const done = new Set<string>();

/** Registers gradients; for the cpu and wasm backends also cheaper Sum and Mean gradients,
 * the SIMD matmul and a one-pass segment sum, on wasm a copy-free Identity and a row-copy
 * gather, on cpu plain loops for broadcasting arithmetic, softmax and head transposes, and
 * on both the engine's clone of saved tensors without a dispatch (see identity.ts).
 * On webgpu, kernels without atomics (webgpu-determinism.ts). Nothing more on other backends
 * (tensorflow on a GPU). Idempotent. Returns the kernels
 * now in place, as "Kernel@backend". `skip` (kernel names, "grads", "clone" or "determinism") is for A/B timings. */
export async function registerKernels(backendName: string, skip: readonly string[] = [], threads?: number): Promise<string[]> {
  await registerAllGradients();
  // webgpu: no atomics in the training step, so that a replay reproduces the checkpoint
  if (backendName === 'webgpu' && !skip.includes('determinism')) return makeWebGpuDeterministic();
  // tfjs-node keeps its own gradients: nothing else is replaced on native backends
  if (backendName !== 'cpu' && backendName !== 'wasm') return [];
  await usePool(threads);
  if (!skip.includes('grads')) registerReduceGradients();
  if (!skip.includes('clone')) installCheapClone();
  const out: string[] = [];
  for (const [kernelName, make] of Object.entries(REPLACEMENTS)) {
    if (skip.includes(kernelName)) continue;
    const key = `${kernelName}@${backendName}`;
    if (!done.has(key)) {
      // getKernel is typed as always found; it returns undefined for kernels a backend lacks
      const original = (tf.getKernel(kernelName, backendName) as KernelConfig | undefined)?.kernelFunc;
      const config = make(backendName, original);
      if (!config) continue;
      if (original) tf.unregisterKernel(kernelName, backendName);
      tf.registerKernel(config);
      done.add(key);
    }
    out.push(key);
  }
  for (const k of registerFusedKernels(backendName)) out.push(`${k}@${backendName}`);
  return out;
}
