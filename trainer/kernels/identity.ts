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

/* eslint-disable @typescript-eslint/no-explicit-any -- the engine's internals are untyped */
let cloneInstalled = false;

/**
 * The engine's clone of every tensor it saves for the backward pass, without a kernel dispatch
 * on wasm and cpu: tfjs's own runs the Identity kernel (which there shares the buffer, as
 * above) through the whole dispatch machinery and records a tape node for it as well as its
 * own. This one shares the buffer directly and records only clone's own tape node (the same
 * gradient, a cast of dy), so saved tensors and higher-order gradients work as before. About a
 * third of the default model's dispatches were these clones. Other backends keep tfjs's clone.
 */
export function installCheapClone(): void {
  if (cloneInstalled) return;
  cloneInstalled = true;
  const engine = tf.engine() as any;
  const original = engine.clone as (x: tf.Tensor) => tf.Tensor;
  engine.clone = function clone(this: any, x: tf.Tensor): tf.Tensor {
    const name = this.backendName as string;
    if ((name !== 'wasm' && name !== 'cpu') || x.dtype === 'string') return original.call(this, x);
    this.backend.incRef(x.dataId);
    const y = this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }) as tf.Tensor;
    const grad = (dy: tf.Tensor) => ({ x: () => tf.engine().runKernel(tf.Cast, { x: dy }, { dtype: 'float32' }) as tf.Tensor });
    this.addTapeNode(this.state.activeScope.name, { x }, [y], grad, [], {});
    return y;
  };
}
