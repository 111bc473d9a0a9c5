// Fast paths for the cpu backend's elementwise kernels. tfjs-backend-cpu broadcasts with
// per-element index arithmetic (~15 ms to multiply [2048, 64] by [2048, 1]) and its
// Softmax is a chain of such ops (~150 ms for [128, 64, 64]); these were ~80% of a
// default-model step on cpu. Same-shape, scalar, per-row and per-column broadcasts and a
// last-axis softmax get plain loops; anything else goes to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { backendIo } from './backend-io.js';

/** How the smaller operand's index follows the output index i, as a JS expression. */
function follow(small: readonly number[], big: readonly number[]): string | null {
  const s = [...Array(big.length - small.length).fill(1), ...small];
  const last = big[big.length - 1];
  if (s.every((d, k) => d === big[k])) return 'i';
  if (s.every((d) => d === 1)) return '0';
  if (s[s.length - 1] === 1 && s.slice(0, -1).every((d, k) => d === big[k])) return `(i / ${last}) | 0`;
  if (s.slice(0, -1).every((d) => d === 1) && s[s.length - 1] === last) return `i % ${last}`;
  return null;
}

const OPS: Record<string, string> = { [tf.Add]: '+', [tf.Sub]: '-', [tf.Multiply]: '*', [tf.RealDiv]: '/' };

export const CPU_BINARY_KERNELS = Object.keys(OPS);

type Loop = (out: Float32Array, L: Float32Array, S: Float32Array) => void;
const loops = new Map<string, Loop>();

/** One compiled loop per operator, broadcast pattern and operand order: a loop shared
 * across them would call through megamorphic closures (~40 ns an element, not ~1). */
function loop(op: string, index: string, bigFirst: boolean): Loop {
  const key = `${op}|${index}|${bigFirst}`;
  let f = loops.get(key);
  if (!f) {
    const expr = bigFirst ? `L[i] ${op} S[${index}]` : `S[${index}] ${op} L[i]`;
    f = new Function('out', 'L', 'S', `for (let i = 0; i < out.length; i++) out[i] = ${expr};`) as Loop;
    loops.set(key, f);
  }
  return f;
}

export function binaryConfig(kernelName: string, original: KernelFunc): KernelConfig {
  const op = OPS[kernelName];
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const aBig = a.shape.length >= b.shape.length && tf.util.sizeFromShape(a.shape) >= tf.util.sizeFromShape(b.shape);
    const [big, small] = aBig ? [a, b] : [b, a];
    const index = follow(small.shape, big.shape);
    if (index === null) return original(args);
    const io = backendIo('cpu', args.backend);
    const run = loop(op, index, aBig);
    return io.output(big.shape, (out) => run(out, io.read(big) as Float32Array, io.read(small) as Float32Array));
  };
  return { kernelName, backendName: 'cpu', kernelFunc };
}

export function softmaxConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { logits } = args.inputs as { logits: TensorInfo };
    const { dim } = args.attrs as NamedAttrMap & { dim: number };
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || (dim !== -1 && dim !== rank - 1)) return original(args);
    const n = logits.shape[rank - 1];
    const io = backendIo('cpu', args.backend);
    return io.output(logits.shape, (out) => {
      const x = io.read(logits);
      for (let r = 0; r < x.length; r += n) {
        let max = -Infinity;
        for (let j = r; j < r + n; j++) if (x[j] > max) max = x[j];
        let sum = 0;
        for (let j = r; j < r + n; j++) sum += out[j] = Math.exp(x[j] - max);
        for (let j = r; j < r + n; j++) out[j] /= sum;
      }
    });
  };
  return { kernelName: tf.Softmax, backendName: 'cpu', kernelFunc };
}

/** Transpose of a rank-4 tensor that keeps the last axis in place (attention's
 * [B, T, H, D] <-> [B, H, T, D]): runs of the last axis are copied whole. tfjs's own
 * computes every element's index (~15 ms for [32, 64, 4, 16]). */
export function transposeConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { perm } = args.attrs as NamedAttrMap & { perm: number[] };
    if (x.dtype !== 'float32' || x.shape.length !== 4 || perm[3] !== 3) return original(args);
    const shape = x.shape;
    const outShape = perm.map((p) => shape[p]);
    const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
    const [s0, s1, s2] = [strides[perm[0]], strides[perm[1]], strides[perm[2]]];
    const [n0, n1, n2, d] = outShape;
    const io = backendIo('cpu', args.backend);
    return io.output(outShape, (out) => {
      const v = io.read(x);
      let o = 0;
      for (let i = 0; i < n0; i++)
        for (let j = 0; j < n1; j++)
          for (let k = 0; k < n2; k++) {
            const src = i * s0 + j * s1 + k * s2;
            for (let e = 0; e < d; e++) out[o++] = v[src + e];
          }
    });
  };
  return { kernelName: tf.Transpose, backendName: 'cpu', kernelFunc };
}
