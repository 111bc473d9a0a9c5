// Fused kernels the harness offers every candidate, as `tf.fused.*`: harness code, registered
// as tfjs kernels (with their gradients) for the wasm and cpu backends. On a backend without
// them (tensorflow, and webgpu until it gets its own) each op runs its plain-tfjs equivalent,
// the code beside it below, so a candidate gives the same answers everywhere.
//
// What a backward pass needs from its forward (softmax probabilities, row norms) travels in
// a private `stash` attribute of the forward call rather than as extra outputs: tfjs would
// fill a zero gradient for every extra output.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Scalar, Tensor, TensorInfo, Variable } from '@tensorflow/tfjs-core';
import { attentionBackward, attentionForward, type AttentionShape } from './attention.js';
import { backendIo, makeOutputs } from './backend-io.js';
import { wasmExports } from './simd-matmul.js';
import {
  adamWStep, borrow, crossEntropyBackward, giveBack, crossEntropyForward, embeddingBackward, embeddingForward, reluSquaredBackward, reluSquaredForward, rmsNormBackward,
  rmsNormForward,
} from './fused-math.js';

export const FUSED_KERNELS = {
  attention: 'FusedCausalAttention',
  attentionGrad: 'FusedCausalAttentionGrad',
  crossEntropy: 'FusedCrossEntropy',
  crossEntropyGrad: 'FusedCrossEntropyGrad',
  rmsNorm: 'FusedRmsNorm',
  rmsNormGrad: 'FusedRmsNormGrad',
  reluSquared: 'FusedReluSquared',
  reluSquaredGrad: 'FusedReluSquaredGrad',
  adamW: 'FusedAdamW',
  embedding: 'FusedEmbedding',
  embeddingGrad: 'FusedEmbeddingGrad',
} as const;

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay: one value for every parameter, or one per parameter */
  weightDecay: number | number[];
  /** 1-based step count, for the bias corrections */
  step: number;
}

/** The fused ops, as the candidate sees them (`tf.fused`). */
export interface Fused {
  /** Causal multi-head self-attention, softmax(q k^T / sqrt(D) + causal mask) v per head, of
   * qkv [B*T, 3C] (q, k and v side by side; rows are B sequences of `seqLen` positions). Returns [B*T, C]. */
  causalAttention(qkv: tf.Tensor2D, heads: number, seqLen: number): tf.Tensor2D;
  /** Mean cross-entropy (nats) of logits [N, V] against int32 targets of N elements (any shape). */
  crossEntropy(logits: tf.Tensor2D, targets: Tensor): Scalar;
  /** Token plus position embedding of int32 ids [B, T]: wte [V, C] rows plus wpe [>=T, C] rows, as [B*T, C]. */
  embedding(wte: tf.Tensor2D, wpe: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor2D;
  /** x / sqrt(mean(x^2 over the last axis) + eps), no learned scale. */
  rmsNorm<T extends Tensor>(x: T, eps: number): T;
  /** relu(x)^2 */
  reluSquared<T extends Tensor>(x: T): T;
  /** One AdamW step over every parameter at once: assigns new values to params, m and v. */
  adamW(params: Variable[], grads: Tensor[], m: Variable[], v: Variable[], o: AdamWOptions): void;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- backends' internals are untyped */
type Stash = Record<string, Float32Array | undefined>;
const recording = () => ((tf.engine() as any).state.gradientDepth as number) > 0;
const attr = <T>(args: { attrs?: NamedAttrMap }, k: string) => (args.attrs as Record<string, unknown>)[k] as T;
/** On the wasm backend: the SIMD functions of matmul.wat on tfjs's heap, and byte offsets of tensors in it. */
function onHeap(backend: any) {
  const memory = backend.wasm.asm.memory as WebAssembly.Memory;
  return {
    fn: wasmExports(memory) as Record<string, (...a: number[]) => void>,
    at: (t: TensorInfo): number => backend.dataIdMap.get(t.dataId).memoryOffset,
    malloc: (bytes: number): number => backend.wasm._malloc(bytes),
    free: (ptr: number): void => backend.wasm._free(ptr),
    floats: (ptr: number, n: number) => new Float32Array(memory.buffer, ptr, n),
  };
}

const noStash = (op: string) => new Error(`${op}'s gradient needs the forward pass of tf.fused (call the op through tf.fused, not runKernel).`);

function kernels(backendName: string): KernelConfig[] {
  const k = (kernelName: string, kernelFunc: KernelFunc): KernelConfig => ({ kernelName, backendName, kernelFunc });
  const ctx = (args: Parameters<KernelFunc>[0]) => {
    const backend = args.backend as any;
    const io = backendIo(backendName, backend);
    return { io, outs: (shapes: number[][], fill: (o: Float32Array[]) => void) => makeOutputs(backendName, backend, shapes, fill) };
  };
  const f32 = (io: ReturnType<typeof backendIo>, t: TensorInfo) => io.read(t) as Float32Array;
  return [
    k(FUSED_KERNELS.attention, (args) => {
      const { qkv } = args.inputs as Record<string, TensorInfo>;
      const sh = attr<AttentionShape>(args, 'shape');
      const stash = attr<Stash | undefined>(args, 'stash');
      const { io, outs } = ctx(args);
      return outs([[qkv.shape[0], qkv.shape[1] / 3]], ([y]) => {
        const probs = attentionForward(f32(io, qkv), y, sh, !!stash && recording());
        if (stash) stash.probs = probs ?? undefined;
      })[0];
    }),
    k(FUSED_KERNELS.attentionGrad, (args) => {
      const { dy, qkv } = args.inputs as Record<string, TensorInfo>;
      const probs = attr<Stash | undefined>(args, 'stash')?.probs;
      if (!probs) throw noStash('causalAttention');
      const { io, outs } = ctx(args);
      const out = outs([qkv.shape], ([dqkv]) => attentionBackward(f32(io, dy), f32(io, qkv), probs, dqkv, attr(args, 'shape')))[0];
      giveBack(probs);
      return out;
    }),
    k(FUSED_KERNELS.embedding, (args) => {
      const { wte, wpe, ids } = args.inputs as Record<string, TensorInfo>;
      const [B, T] = ids.shape;
      const C = wte.shape[1];
      const stash = attr<Stash | undefined>(args, 'stash');
      const { io, outs } = ctx(args);
      return outs([[B * T, C]], ([out]) => {
        const idv = io.read(ids) as Int32Array;
        embeddingForward(f32(io, wte), f32(io, wpe), idv, T, C, out);
        if (stash && recording()) stash.ids = idv.slice() as unknown as Float32Array;
      })[0];
    }),
    k(FUSED_KERNELS.embeddingGrad, (args) => {
      const { dy } = args.inputs as Record<string, TensorInfo>;
      const ids = attr<Stash | undefined>(args, 'stash')?.ids as unknown as Int32Array | undefined;
      if (!ids) throw noStash('embedding');
      const [V, C, P, T] = attr<number[]>(args, 'sizes');
      const { io, outs } = ctx(args);
      return outs([[V, C], [P, C]], ([dwte, dwpe]) => {
        dwte.fill(0);
        dwpe.fill(0);
        embeddingBackward(f32(io, dy), ids, T, C, dwte, dwpe);
      });
    }),
    k(FUSED_KERNELS.crossEntropy, (args) => {
      const { logits, targets } = args.inputs as Record<string, TensorInfo>;
      const [N, V] = logits.shape;
      const stash = attr<Stash | undefined>(args, 'stash');
      const { io, outs } = ctx(args);
      return outs([[]], ([loss]) => {
        const probs = borrow(N * V);
        const ids = io.read(targets) as Int32Array;
        loss[0] = crossEntropyForward(f32(io, logits), ids, N, V, probs);
        if (stash && recording()) Object.assign(stash, { probs, targets: ids.slice() });
        else giveBack(probs);
      })[0];
    }),
    k(FUSED_KERNELS.crossEntropyGrad, (args) => {
      const { dy } = args.inputs as Record<string, TensorInfo>;
      const stash = attr<Stash | undefined>(args, 'stash');
      const probs = stash?.probs;
      const targets = stash?.targets as unknown as Int32Array | undefined;
      if (!probs || !targets) throw noStash('crossEntropy');
      const [N, V] = attr<number[]>(args, 'shape');
      const { io, outs } = ctx(args);
      const out = outs([[N, V]], ([dz]) => crossEntropyBackward(probs, targets, N, V, f32(io, dy)[0], dz))[0];
      giveBack(probs);
      return out;
    }),
    k(FUSED_KERNELS.rmsNorm, (args) => {
      const { x } = args.inputs as Record<string, TensorInfo>;
      const C = x.shape[x.shape.length - 1];
      const rows = tf.util.sizeFromShape(x.shape) / C;
      const stash = attr<Stash | undefined>(args, 'stash');
      const keep = !!stash && recording();
      if (backendName === 'wasm' && C % 4 === 0) {
        const backend = args.backend as any;
        const out = backend.makeOutput(x.shape, 'float32') as TensorInfo;
        const h = onHeap(backend);
        const r = h.malloc(rows * 4);
        h.fn.rmsnorm(h.at(x), h.at(out), r, rows, C, attr(args, 'eps'));
        if (keep) stash.rstd = h.floats(r, rows).slice();
        h.free(r);
        return out;
      }
      const { io, outs } = ctx(args);
      return outs([x.shape], ([y]) => {
        const rstd = new Float32Array(rows);
        rmsNormForward(f32(io, x), y, C, attr(args, 'eps'), rstd);
        if (keep) stash.rstd = rstd;
      })[0];
    }),
    k(FUSED_KERNELS.rmsNormGrad, (args) => {
      const { dy, x } = args.inputs as Record<string, TensorInfo>;
      const rstd = attr<Stash | undefined>(args, 'stash')?.rstd;
      if (!rstd) throw noStash('rmsNorm');
      const C = x.shape[x.shape.length - 1];
      if (backendName === 'wasm' && C % 4 === 0) {
        const backend = args.backend as any;
        const out = backend.makeOutput(x.shape, 'float32') as TensorInfo;
        const h = onHeap(backend);
        const r = h.malloc(rstd.length * 4);
        h.floats(r, rstd.length).set(rstd);
        h.fn.rmsnorm_grad(h.at(dy), h.at(x), r, h.at(out), rstd.length, C);
        h.free(r);
        return out;
      }
      const { io, outs } = ctx(args);
      return outs([x.shape], ([dx]) => rmsNormBackward(f32(io, dy), f32(io, x), rstd, C, dx))[0];
    }),
    k(FUSED_KERNELS.reluSquared, (args) => {
      const { x } = args.inputs as Record<string, TensorInfo>;
      if (backendName === 'wasm') {
        const backend = args.backend as any;
        const out = backend.makeOutput(x.shape, 'float32') as TensorInfo;
        const h = onHeap(backend);
        h.fn.relu2(h.at(x), h.at(out), tf.util.sizeFromShape(x.shape));
        return out;
      }
      const { io, outs } = ctx(args);
      return outs([x.shape], ([y]) => reluSquaredForward(f32(io, x), y))[0];
    }),
    k(FUSED_KERNELS.reluSquaredGrad, (args) => {
      const { dy, x } = args.inputs as Record<string, TensorInfo>;
      if (backendName === 'wasm') {
        const backend = args.backend as any;
        const out = backend.makeOutput(x.shape, 'float32') as TensorInfo;
        const h = onHeap(backend);
        h.fn.relu2_grad(h.at(dy), h.at(x), h.at(out), tf.util.sizeFromShape(x.shape));
        return out;
      }
      const { io, outs } = ctx(args);
      return outs([x.shape], ([dx]) => reluSquaredBackward(f32(io, dy), f32(io, x), dx))[0];
    }),
    k(FUSED_KERNELS.adamW, (args) => {
      // inputs p0, g0, m0, v0, p1, ...; outputs p0', m0', v0', p1', ...
      const inputs = args.inputs as Record<string, TensorInfo>;
      const n = Object.keys(inputs).length / 4;
      const o = attr<AdamWOptions & { decays: number[] }>(args, 'hyper');
      const shapes = Array.from({ length: n }, (_, i) => inputs[`p${i}`].shape).flatMap((s) => [s, s, s]);
      const { io, outs } = ctx(args);
      if (backendName === 'wasm') {
        const backend = args.backend as any;
        const out = shapes.map((s) => backend.makeOutput(s, 'float32') as TensorInfo);
        const h = onHeap(backend);
        const c1 = 1 / (1 - o.beta1 ** o.step);
        const c2 = 1 / (1 - o.beta2 ** o.step);
        for (let i = 0; i < n; i++) {
          const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((x) => h.at(inputs[`${x}${i}`]));
          const keep = o.decays[i] ? 1 - o.lr * o.decays[i] : 1;
          const size = tf.util.sizeFromShape(shapes[3 * i]);
          h.fn.adamw(p, g, m, v, h.at(out[3 * i]), h.at(out[3 * i + 1]), h.at(out[3 * i + 2]), size, o.lr, o.beta1, o.beta2, o.eps, c1, c2, keep);
        }
        return out;
      }
      return outs(shapes, (out) => {
        for (let i = 0; i < n; i++) {
          const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((x) => f32(io, inputs[`${x}${i}`]));
          adamWStep(p, g, m, v, { ...o, decay: o.decays[i] }, out[3 * i], out[3 * i + 1], out[3 * i + 2]);
        }
      });
    }),
  ];
}

const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>) =>
  tf.engine().runKernel(name, inputs as any, attrs as any) as Tensor | Tensor[];

function gradients(): GradConfig[] {
  return [
    {
      kernelName: FUSED_KERNELS.attention,
      inputsToSave: ['qkv'],
      gradFunc: (dy, [qkv], attrs) => ({ qkv: () => run(FUSED_KERNELS.attentionGrad, { dy: dy as Tensor, qkv }, attrs) as Tensor }),
    },
    {
      kernelName: FUSED_KERNELS.embedding,
      gradFunc: (dy, _saved, attrs) => {
        const [dwte, dwpe] = run(FUSED_KERNELS.embeddingGrad, { dy: dy as Tensor }, attrs) as Tensor[];
        return { wte: () => dwte, wpe: () => dwpe, ids: () => tf.zeros(attrs.idsShape as number[]) };
      },
    },
    {
      // saves nothing through tfjs (each saved tensor is a dispatch): probs and targets are in the stash
      kernelName: FUSED_KERNELS.crossEntropy,
      gradFunc: (dy, _saved, attrs) => ({
        logits: () => run(FUSED_KERNELS.crossEntropyGrad, { dy: dy as Tensor }, attrs) as Tensor,
        targets: () => tf.zeros(attrs.targetsShape as number[]),
      }),
    },
    {
      kernelName: FUSED_KERNELS.rmsNorm,
      inputsToSave: ['x'],
      gradFunc: (dy, [x], attrs) => ({ x: () => run(FUSED_KERNELS.rmsNormGrad, { dy: dy as Tensor, x }, attrs) as Tensor }),
    },
    {
      kernelName: FUSED_KERNELS.reluSquared,
      inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => run(FUSED_KERNELS.reluSquaredGrad, { dy: dy as Tensor, x }, {}) as Tensor }),
    },
  ];
}

/** Registers the fused kernels for a backend (wasm, cpu) and their gradients. Returns the
 * kernel names registered. Other backends get none: tf.fused runs the plain versions there. */
export function registerFusedKernels(backendName: string): string[] {
  if (backendName !== 'wasm' && backendName !== 'cpu') return [];
  const out: string[] = [];
  for (const config of kernels(backendName)) {
    if (!(tf.getKernel(config.kernelName, backendName) as KernelConfig | undefined)) tf.registerKernel(config);
    out.push(config.kernelName);
  }
  for (const g of gradients()) if (!(tf.getGradient(g.kernelName) as GradConfig | undefined)) tf.registerGradient(g);
  return out;
}

const has = (kernelName: string) => (tf.getKernel(kernelName, tf.getBackend()) as KernelConfig | undefined) !== undefined;

/** The plain-tfjs equivalents: what tf.fused runs where its kernels are not registered. */
export const plain = {
  causalAttention(qkv: tf.Tensor2D, heads: number, seqLen: number): tf.Tensor2D {
    return tf.tidy(() => {
      const [B, T, C] = [qkv.shape[0] / seqLen, seqLen, qkv.shape[1] / 3];
      const D = C / heads;
      const [q, k, v] = tf.split(qkv, 3, 1);
      const split = (x: Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [B, T, heads, D]), [0, 2, 1, 3]), [B * heads, T, D]);
      const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // 1 on and below the diagonal
      const scores = tf.add(tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(D)), tf.mul(tf.sub(mask, 1), 1e9));
      const y = tf.matMul(tf.softmax(scores), split(v));
      return tf.reshape(tf.transpose(tf.reshape(y, [B, heads, T, D]), [0, 2, 1, 3]), [B * T, C]);
    });
  },
  crossEntropy(logits: tf.Tensor2D, targets: Tensor): Scalar {
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, logits.shape[1]), logits) as Scalar;
  },
  embedding(wte: tf.Tensor2D, wpe: tf.Tensor2D, ids: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = ids.shape;
    return tf.reshape(tf.add(tf.gather(wte, ids), tf.slice(wpe, [0, 0], [T, wpe.shape[1]])), [B * T, wte.shape[1]]);
  },
  rmsNorm<T extends Tensor>(x: T, eps: number): T {
    return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
  },
  reluSquared<T extends Tensor>(x: T): T {
    return tf.square(tf.relu(x));
  },
  adamW(params: Variable[], grads: Tensor[], m: Variable[], v: Variable[], o: AdamWOptions): void {
    const c1 = 1 / (1 - o.beta1 ** o.step);
    const c2 = 1 / (1 - o.beta2 ** o.step);
    tf.tidy(() => {
      params.forEach((p, i) => {
        const decay = typeof o.weightDecay === 'number' ? o.weightDecay : o.weightDecay[i];
        m[i].assign(tf.add(tf.mul(m[i], o.beta1), tf.mul(grads[i], 1 - o.beta1)));
        v[i].assign(tf.add(tf.mul(v[i], o.beta2), tf.mul(tf.square(grads[i]), 1 - o.beta2)));
        const update = tf.div(tf.mul(m[i], c1), tf.add(tf.sqrt(tf.mul(v[i], c2)), o.eps));
        p.assign(tf.sub(decay ? tf.mul(p, 1 - o.lr * decay) : p, tf.mul(update, o.lr)));
      });
    });
  },
};

function checkSameShape(op: string, ...ts: Tensor[]): void {
  for (const t of ts)
    if (t.shape.join() !== ts[0].shape.join() || t.dtype !== 'float32')
      throw new Error(`tf.fused.${op}: inputs must be float32 tensors of one shape, got [${ts.map((x) => `${x.dtype} [${x.shape}]`).join(', ')}].`);
}

export const fused: Fused = Object.freeze<Fused>({
  causalAttention(qkv, heads, seqLen) {
    checkSameShape('causalAttention', qkv);
    const [N, C3] = qkv.shape;
    if (qkv.rank !== 2 || C3 % 3 !== 0 || !Number.isInteger(seqLen) || seqLen < 1 || N % seqLen !== 0)
      throw new Error(`tf.fused.causalAttention: qkv must be [B*T, 3C] with seqLen T dividing B*T; got [${qkv.shape}] and seqLen ${seqLen}.`);
    const C = C3 / 3;
    if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0) throw new Error(`tf.fused.causalAttention: heads (${heads}) must divide the width ${C}.`);
    if (!has(FUSED_KERNELS.attention)) return plain.causalAttention(qkv, heads, seqLen);
    return run(FUSED_KERNELS.attention, { qkv }, { shape: { B: N / seqLen, T: seqLen, H: heads, D: C / heads }, stash: {} }) as tf.Tensor2D;
  },
  crossEntropy(logits, targets) {
    if (logits.rank !== 2 || targets.size !== logits.shape[0] || targets.dtype !== 'int32' || logits.dtype !== 'float32')
      throw new Error(`tf.fused.crossEntropy: logits must be float32 [N, V] and targets int32 with N elements; got ${logits.dtype} [${logits.shape}] and ${targets.dtype} [${targets.shape}].`);
    if (!has(FUSED_KERNELS.crossEntropy)) return plain.crossEntropy(logits, targets);
    return run(FUSED_KERNELS.crossEntropy, { logits, targets }, { shape: logits.shape, targetsShape: targets.shape, stash: {} }) as Scalar;
  },
  embedding(wte, wpe, ids) {
    checkSameShape('embedding', wte);
    checkSameShape('embedding', wpe);
    if (wte.rank !== 2 || wpe.rank !== 2 || wpe.shape[1] !== wte.shape[1] || ids.rank !== 2 || ids.dtype !== 'int32' || ids.shape[1] > wpe.shape[0])
      throw new Error(`tf.fused.embedding: wte [V, C], wpe [P, C] and int32 ids [B, T] with T <= P; got [${wte.shape}], [${wpe.shape}], ${ids.dtype} [${ids.shape}].`);
    if (!has(FUSED_KERNELS.embedding)) return plain.embedding(wte, wpe, ids);
    const sizes = [wte.shape[0], wte.shape[1], wpe.shape[0], ids.shape[1]];
    return run(FUSED_KERNELS.embedding, { wte, wpe, ids }, { sizes, idsShape: ids.shape, stash: {} }) as tf.Tensor2D;
  },
  rmsNorm(x, eps) {
    checkSameShape('rmsNorm', x);
    if (!has(FUSED_KERNELS.rmsNorm)) return plain.rmsNorm(x, eps);
    return run(FUSED_KERNELS.rmsNorm, { x }, { eps, stash: {} }) as typeof x;
  },
  reluSquared(x) {
    checkSameShape('reluSquared', x);
    if (!has(FUSED_KERNELS.reluSquared)) return plain.reluSquared(x);
    return run(FUSED_KERNELS.reluSquared, { x }, {}) as typeof x;
  },
  adamW(params, grads, m, v, o) {
    const n = params.length;
    if (grads.length !== n || m.length !== n || v.length !== n) throw new Error(`tf.fused.adamW: params, grads, m and v must have one entry per parameter (${n}); got ${grads.length}, ${m.length}, ${v.length}.`);
    params.forEach((p, i) => checkSameShape('adamW', p, grads[i], m[i], v[i]));
    const decays = params.map((_, i) => (typeof o.weightDecay === 'number' ? o.weightDecay : o.weightDecay[i]));
    if (!has(FUSED_KERNELS.adamW)) return plain.adamW(params, grads, m, v, o);
    const inputs: Record<string, Tensor> = {};
    params.forEach((p, i) => Object.assign(inputs, { [`p${i}`]: p, [`g${i}`]: grads[i], [`m${i}`]: m[i], [`v${i}`]: v[i] }));
    const out = run(FUSED_KERNELS.adamW, inputs, { hyper: { ...o, decays } }) as Tensor[];
    for (let i = 0; i < n; i++) {
      params[i].assign(out[3 * i]);
      m[i].assign(out[3 * i + 1]);
      v[i].assign(out[3 * i + 2]);
    }
    tf.dispose(out);
  },
});
