// UnsortedSegmentSum, the gradient of gather (embedding lookups): the wasm backend has
// none, and the cpu backend's builds one masked reduction per segment (256 for a byte
// vocabulary). This is one pass over the rows.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backendIo } from './backend-io.js';

export function segmentSumConfig(backendName: string, original: KernelFunc | undefined): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as NamedAttrMap & { numSegments: number };
    if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') {
      if (original) return original(args);
      throw new Error(`UnsortedSegmentSum on ${backendName} supports float32 values and int32 ids, got ${x.dtype} and ${segmentIds.dtype}.`);
    }
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    const inner = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
    const io = backendIo(backendName, args.backend);
    return io.output([numSegments, ...x.shape.slice(segmentIds.shape.length)], (out) => {
      const xs = io.read(x);
      const ids = io.read(segmentIds);
      out.fill(0);
      for (let r = 0; r < rows; r++) {
        const s = ids[r];
        if (s < 0 || s >= numSegments) continue; // as tf: out-of-range ids are dropped
        for (let i = 0, o = s * inner, j = r * inner; i < inner; i++) out[o + i] += xs[j + i];
      }
    });
  };
  return { kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc };
}
