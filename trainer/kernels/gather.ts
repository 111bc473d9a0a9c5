// GatherV2 on wasm for the embedding case (rows of a float32 table, axis 0): one row copy
// per index inside the heap. wasm's own took ~8 ms for 2048 rows of 64 (about 5% of a
// default-model step). Other cases, and out-of-range ids (its error), go to the original.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

/* eslint-disable @typescript-eslint/no-explicit-any -- the wasm backend's internals are untyped */
export function gatherConfig(backendName: string, original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as NamedAttrMap & { axis: number; batchDims: number };
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || tf.util.parseAxisParam(axis, x.shape)[0] !== 0 || batchDims) return original(args);
    const backend = args.backend as any;
    const rows = x.shape[0];
    const inner = tf.util.sizeFromShape(x.shape.slice(1));
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    for (const id of ids) if (id < 0 || id >= rows) return original(args);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    const heap = new Float32Array(backend.wasm.HEAPU8.buffer); // after makeOutput: it may grow the heap
    const from = backend.dataIdMap.get(x.dataId).memoryOffset / 4;
    const to = backend.dataIdMap.get(out.dataId).memoryOffset / 4;
    const idsNow = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < idsNow.length; i++) heap.copyWithin(to + i * inner, from + idsNow[i] * inner, from + (idsNow[i] + 1) * inner);
    return out;
  };
  return { kernelName: tf.GatherV2, backendName, kernelFunc };
}
