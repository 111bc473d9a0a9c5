// Bit-reproducible training on tfjs's WebGPU backend. Two of its kernels that a GPT's training
// step uses add floats with atomics, in whatever order the GPU's threads arrive: the split-K
// matmul (tfjs picks it for a weight gradient, X^T·dY, when the output is small and the inner
// dimension long) and UnsortedSegmentSum (the gradient of the embedding's gather). So two runs of
// the same seeds and schedule came out with different checkpoints (measured on Mesa's lavapipe:
// three replays, three digests). Here every matmul uses the tiled kernel, in which one thread sums
// each output element in a fixed order, and the segment sum is a one-hot matmul, which is the
// same sum in a fixed order. Then a replay on the same adapter and driver reproduces the
// checkpoint, and a class may list `webgpu` in `trust.deterministic_backends` (docs/trust.md 2b)
// once a replay on its GPU has repeated a digest (`npm run pack:gpu` measures it).
// Other kernels with atomics (Bincount/DenseBincount with weights, ScatterNd, TensorScatterUpdate,
// SparseSegmentSum/Mean, Dilation2D's gradients) are left as tfjs has them: the default model
// uses none of them.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/** tfjs-backend-webgpu's MatMulProgramType.MatMulPackedProgram (webgpu_util.js) */
const MATMUL_PACKED = 3;

interface WebGpuBackend {
  disposeData: (dataId: object) => void;
}

function kernel(name: string): KernelFunc {
  const k = tf.getKernel(name, 'webgpu') as KernelConfig | undefined;
  if (!k) throw new Error(`tfjs's webgpu backend has no ${name} kernel`);
  return k.kernelFunc;
}

/** UnsortedSegmentSum as onehot(ids)^T · x: the same sum, in a fixed order, without atomics. */
function segmentSumConfig(original: KernelFunc): KernelConfig {
  const reshape = kernel(tf.Reshape);
  const oneHot = kernel(tf.OneHot);
  const matMul = kernel(tf.BatchMatMul);
  const kernelFunc: KernelFunc = (args) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as NamedAttrMap & { numSegments: number };
    if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') return original(args);
    const backend = args.backend as unknown as WebGpuBackend;
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = tf.util.sizeFromShape(innerShape);
    const run = (f: KernelFunc, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => f({ inputs, backend: args.backend, attrs }) as TensorInfo;
    const ids = run(reshape, { x: segmentIds }, { shape: [rows] });
    // ids outside [0, numSegments) get a row of zeros: dropped, as tfjs's kernel drops them
    const hot = run(oneHot, { indices: ids }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'float32' });
    const a = run(reshape, { x: hot }, { shape: [1, rows, numSegments] });
    const b = run(reshape, { x }, { shape: [1, rows, inner] });
    const sum = run(matMul, { a, b }, { transposeA: true, transposeB: false });
    const out = run(reshape, { x: sum }, { shape: [numSegments, ...innerShape] });
    for (const t of [ids, hot, a, b, sum]) backend.disposeData(t.dataId);
    return out;
  };
  return { kernelName: tf.UnsortedSegmentSum, backendName: 'webgpu', kernelFunc };
}

let done = false;

/** Makes the default model's training step bit-reproducible on webgpu. Idempotent. Returns the
 * kernels replaced, as "Kernel@webgpu". */
export function makeWebGpuDeterministic(): string[] {
  tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', MATMUL_PACKED);
  if (!done) {
    const original = kernel(tf.UnsortedSegmentSum);
    const config = segmentSumConfig(original);
    tf.unregisterKernel(tf.UnsortedSegmentSum, 'webgpu');
    tf.registerKernel(config);
    done = true;
  }
  return [`${tf.UnsortedSegmentSum}@webgpu`, `${tf.BatchMatMul}@webgpu (tiled, no split-K)`];
}
