// The two things a replacement kernel needs from a backend: a view of an input's values
// and a new float32 output to fill. The cpu backend keeps values in JS typed arrays; the
// wasm backend keeps them in its heap, which allocating an output may grow (detaching
// older views), so inputs are read inside `fill`, after the output exists.
import type { TensorInfo } from '@tensorflow/tfjs-core';

export interface BackendIo {
  read(t: TensorInfo): Float32Array | Int32Array;
  output(shape: number[], fill: (out: Float32Array) => void): TensorInfo;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- backends' internals are untyped */
export function backendIo(backendName: string, backend: any): BackendIo {
  if (backendName === 'wasm')
    return {
      read: (t) => backend.typedArrayFromHeap(t),
      output: (shape, fill) => {
        const out = backend.makeOutput(shape, 'float32');
        fill(backend.typedArrayFromHeap(out));
        return out;
      },
    };
  return {
    read: (t) => backend.readSync(t.dataId),
    output: (shape, fill) => {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(values);
      return backend.makeTensorInfo(shape, 'float32', values);
    },
  };
}

/** Several float32 outputs at once: on wasm all are allocated before any view is taken
 * (an allocation may grow the heap), so `fill` reads its inputs through `read` inside. */
export function makeOutputs(backendName: string, backend: any, shapes: number[][], fill: (outs: Float32Array[]) => void): TensorInfo[] {
  if (backendName === 'wasm') {
    const outs: TensorInfo[] = shapes.map((s) => backend.makeOutput(s, 'float32'));
    fill(outs.map((o) => backend.typedArrayFromHeap(o)));
    return outs;
  }
  const values = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
  fill(values);
  return values.map((v, i) => backend.makeTensorInfo(shapes[i], 'float32', v));
}
