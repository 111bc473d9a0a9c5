// Harness-side (trusted) setup of tfjs for training: gradients for every kernel, then
// faster kernels for the hot ops of the default model where tfjs's own are slow or absent.
// Candidates cannot register kernels; the harness calls this once after tf.setBackend().
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-matmul.js';
import { registerAllGradients } from './gradients.js';
import { segmentSumConfig } from './segment-sum.js';

const REPLACEMENTS: Record<string, (backendName: string, original: KernelFunc | undefined) => KernelConfig | null> = {
  [tf.BatchMatMul]: (name, original) => (original ? batchMatMulConfig(name, original) : null),
  [tf.UnsortedSegmentSum]: segmentSumConfig,
};
const done = new Set<string>();

/** Registers gradients, and for the cpu and wasm backends the SIMD matmul and a one-pass
 * segment sum (nothing for others, e.g. tensorflow on a GPU). Idempotent. Returns the
 * kernels now in place, as "Kernel@backend". */
export async function registerKernels(backendName: string): Promise<string[]> {
  await registerAllGradients();
  if (backendName !== 'cpu' && backendName !== 'wasm') return [];
  const out: string[] = [];
  for (const [kernelName, make] of Object.entries(REPLACEMENTS)) {
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
  return out;
}
