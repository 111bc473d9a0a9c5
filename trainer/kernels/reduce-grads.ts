// Gradients of Sum and Mean without a ones(x.shape) built in JS: tfjs's own multiply dy by
// a ones tensor filled in JS and copied to the backend (a [2048, 256] one per loss, per
// step). Here dy is broadcast by adding it to zerosLike(x), filled by the backend itself
// (not broadcastTo: it runs Tile, which on wasm is ~10x slower than the JS ones).
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

function expanded(dy: Tensor, x: Tensor, axis: number | number[]): Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  return tf.add(tf.zerosLike(x), tf.reshape(dy, shape));
}

function reduceGrad(kernelName: string, mean: boolean): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { axis } = attrs as NamedAttrMap & { axis: number | number[] };
      const d = expanded(dy as Tensor, x, axis);
      const n = x.size / Math.max(1, (dy as Tensor).size);
      return { x: () => (mean ? tf.div(d, n) : d) };
    },
  };
}

export function registerReduceGradients(): void {
  tf.registerGradient(reduceGrad(tf.Sum, false));
  tf.registerGradient(reduceGrad(tf.Mean, true));
}
