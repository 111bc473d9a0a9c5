// Identity on wasm shares the input's buffer (reference-counted, as the cpu backend and
// wasm's own Reshape do) instead of copying it. tfjs clones every tensor it saves for the
// backward pass through Identity, so the copy cost the default model ~15% of a step.
// Sharing is safe: tensors are immutable and Variable.assign swaps buffers, never writes.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

export function identityConfig(backendName: string, original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: tf.Identity, backendName, kernelFunc };
}
