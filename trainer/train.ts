// train.ts: the one file an experiment changes. A small byte-level GPT in TensorFlow.js.
//
// Interface (see trainer/candidate-api.ts and program.md): export `createModel(tf, seed, device)`
// returning a Candidate with
//   contextLength, batchSize       the [B, T] shape of the batches the harness feeds
//   trainStep(x, y, progress)      one AdamW step on bytes x [B, T] -> next bytes y [B, T];
//                                  progress is the fraction of the time budget used (0..1);
//                                  returns the mean cross-entropy (nats) as a scalar
//   logits(x)                      [N, T, 256] next-byte logits; position t sees bytes 0..t only
//   variables()                    every tensor the trained model needs, by stable name
// The harness owns the backend, the data, the clock and the scoring: use only the `tf`
// namespace passed in (never import a backend), and keep the model causal.
//
// Speed: on the cpu and wasm backends the harness runs matmuls on its own SIMD kernel over
// all cores (transposed operands cost nothing extra) and offers fused ops as `tf.fused`, one
// kernel call each, forward and backward (on other backends they run the plain version):
//   tf.fused.causalAttention(qkv, heads, T)       split qkv [B*T, 3C] into q, k, v and heads,
//                                                 softmax(q k^T / sqrt(D) + causal mask) v,
//                                                 merge heads: [B*T, C] (the `plain` object
//                                                 of trainer/kernels/fused.ts has each in tfjs)
//   tf.fused.embedding(wte, wpe, x)               reshape(gather(wte, x) + slice(wpe, [0, 0], [T, C]), [B*T, C])
//   tf.fused.crossEntropy(logits, targets)        tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits)
//   tf.fused.rmsNorm(x, eps)                      x * rsqrt(mean(x^2, -1, keepDims) + eps)
//   tf.fused.reluSquared(x)                       tf.square(tf.relu(x))
//   tf.fused.adamW(params, grads, m, v, opts)     per parameter: m = b1 m + (1-b1) g;
//                                                 v = b2 v + (1-b2) g^2; p = p (1 - lr wd)
//                                                 - lr (m c1) / (sqrt(v c2) + eps)
// Write your own ops in plain tfjs freely: everything has a gradient. Slow on wasm: rank-5
// transposes, tf.tile, tf.pow. Measure with `npm run bench:trainer` (dispatches per step and
// time per op class) or trainer/kernels/bench-step.ts.
//
// `device` says where it runs (backend, gpu, hardwareClass, memoryMb, threads), so one file
// can size itself per machine; results compare only within a hardware class. This one trains
// a small model on a CPU and a ~25M-parameter one on a GPU (configFor, below).
//
// Read top to bottom: hyperparameters, model, optimizer and schedule, the Candidate.
import type * as tfc from '@tensorflow/tfjs-core';
import type { Candidate, DeviceInfo, TF } from './candidate-api.js';

// ---------------------------------------------------------------- hyperparameters
// The model's shape per device: these constants on a CPU (wasm, cpu, tfjs-node without a GPU,
// a software WebGPU adapter), the GPU_ ones below when `device.gpu` (see configFor).
const VOCAB = 256; // bytes
const CONTEXT = 64; // T: bytes of context
const BATCH = 32; // B: sequences per step
const N_LAYER = 2;
const N_EMBD = 64; // C: model width
const N_HEAD = 4;
const MLP_MULT = 4; // hidden width of the MLP = MLP_MULT * N_EMBD
const INIT_STD = 0.02;

const LR = 3e-3; // peak learning rate
const WARMUP = 0.02; // fraction of the budget spent ramping the learning rate up
const WARMDOWN = 0.4; // fraction of the budget, at the end, spent decaying it linearly
const FINAL_LR_FRAC = 0.05; // learning rate at progress 1, as a fraction of LR
const BETA1 = 0.9;
const BETA2 = 0.99;
const ADAM_EPS = 1e-8;
const WEIGHT_DECAY = 0.01; // decoupled (AdamW), matrices only
const NORM_EPS = 1e-5;

// On a GPU (as autoresearch's DEPTH: width = 64 x depth, heads of 64): ~25M parameters, a
// longer context and a batch sized to the device's memory; 16k tokens per step (at 32 GiB
// and more) keep a GPU busy where the small model would be bound by kernel dispatch.
const GPU_DEPTH = 8;
const GPU_N_EMBD = 64 * GPU_DEPTH;
const GPU_N_HEAD = GPU_N_EMBD / 64;
const GPU_CONTEXT = 256;
const GPU_BATCH_PER_8GB = 16; // sequences per 8 GiB of device memory, from 16 up to GPU_MAX_BATCH
const GPU_MAX_BATCH = 64;
const GPU_LR = 1e-3;

/** The shape and peak learning rate of the model for a device. */
export interface ModelConfig {
  context: number;
  batch: number;
  layers: number;
  width: number;
  heads: number;
  lr: number;
}

/** The CPU configuration (the constants above), or on a GPU the GPU_ one, its batch from the
 * device's memory (16 sequences per 8 GiB, 16 to 64). Results compare only within a hardware
 * class, so each class gets the model that suits it. */
export function configFor(device?: DeviceInfo): ModelConfig {
  if (!device?.gpu) return { context: CONTEXT, batch: BATCH, layers: N_LAYER, width: N_EMBD, heads: N_HEAD, lr: LR };
  const batch = Math.min(GPU_MAX_BATCH, Math.max(16, GPU_BATCH_PER_8GB * Math.floor(device.memoryMb / 8192)));
  return { context: GPU_CONTEXT, batch, layers: GPU_DEPTH, width: GPU_N_EMBD, heads: GPU_N_HEAD, lr: GPU_LR };
}

// ---------------------------------------------------------------- model
type Params = Record<string, tfc.Variable<tfc.Rank.R2>>; // every parameter is a matrix

function initParams(tf: TF, seed: number, c: ModelConfig): Params {
  const p: Params = {};
  let n = 0;
  const draw = (shape: [number, number], std: number) => tf.randomNormal<tfc.Rank.R2>(shape, 0, std, 'float32', seed * 1009 + n++);
  // unnamed: tfjs variable names are global, and a process may hold several models
  const normal = (name: string, shape: [number, number], std: number) => (p[name] = tf.variable(draw(shape, std), true));
  // residual projections are scaled down so the residual stream does not grow with depth
  const projStd = INIT_STD / Math.sqrt(2 * c.layers);
  const C = c.width;
  normal('wte', [VOCAB, C], INIT_STD);
  normal('wpe', [c.context, C], INIT_STD);
  for (let l = 0; l < c.layers; l++) {
    // q, k and v side by side: one matmul gives all three
    const qkv = [0, 1, 2].map(() => draw([C, C], INIT_STD));
    p[`h${l}.attn.wqkv`] = tf.variable(tf.concat2d(qkv, 1), true);
    tf.dispose(qkv);
    normal(`h${l}.attn.wo`, [C, C], projStd);
    normal(`h${l}.mlp.w1`, [C, MLP_MULT * C], INIT_STD);
    normal(`h${l}.mlp.w2`, [MLP_MULT * C, C], projStd);
  }
  normal('lm_head', [C, VOCAB], INIT_STD);
  return p;
}

/** Causal self-attention on x [B*T, C] (rows are B sequences of T positions). */
function attention(tf: TF, p: Params, l: number, x: tfc.Tensor2D, T: number, heads: number): tfc.Tensor2D {
  const qkv = tf.matMul(x, p[`h${l}.attn.wqkv`]) as tfc.Tensor2D;
  return tf.matMul(tf.fused.causalAttention(qkv, heads, T), p[`h${l}.attn.wo`]);
}

/** MLP with squared-ReLU activation (as in autoresearch's train.py). */
function mlp(tf: TF, p: Params, l: number, x: tfc.Tensor2D): tfc.Tensor2D {
  return tf.matMul(tf.fused.reluSquared(tf.matMul(x, p[`h${l}.mlp.w1`])), p[`h${l}.mlp.w2`]);
}

/** RMS norm without learned scale (as in autoresearch's train.py), over the last axis. */
const rmsNorm = (tf: TF, x: tfc.Tensor2D) => tf.fused.rmsNorm(x, NORM_EPS);

/** Logits [B*T, VOCAB] for bytes x [B, T]. */
function forward(tf: TF, p: Params, c: ModelConfig, x: tfc.Tensor2D): tfc.Tensor2D {
  const T = x.shape[1];
  let h = tf.fused.embedding(p.wte, p.wpe, x); // [B*T, C]: token plus position
  for (let l = 0; l < c.layers; l++) {
    h = tf.add(h, attention(tf, p, l, rmsNorm(tf, h), T, c.heads));
    h = tf.add(h, mlp(tf, p, l, rmsNorm(tf, h)));
  }
  return tf.matMul(rmsNorm(tf, h), p.lm_head);
}

// ---------------------------------------------------------------- optimizer and schedule
/** Learning rate at a point of the budget: linear warm-up, flat, then linear warm-down. */
function learningRate(progress: number, peak: number): number {
  if (progress < WARMUP) return (peak * (progress + 1e-3)) / (WARMUP + 1e-3);
  if (progress <= 1 - WARMDOWN) return peak;
  const t = Math.min(1, (progress - (1 - WARMDOWN)) / WARMDOWN);
  return peak * (1 - t + t * FINAL_LR_FRAC);
}

/** AdamW (the harness's fused kernel: one call for every parameter), decoupled weight
 * decay on matrices only. */
function makeAdamW(tf: TF, params: Params) {
  const names = Object.keys(params);
  const list = names.map((n) => params[n]);
  const m = list.map((p) => tf.variable(tf.zerosLike(p), false));
  const v = list.map((p) => tf.variable(tf.zerosLike(p), false));
  const weightDecay = names.map((n) => (params[n].rank >= 2 && n !== 'wpe' ? WEIGHT_DECAY : 0));
  let step = 0;
  return (grads: Record<string, tfc.Tensor>, lr: number) => {
    step++;
    const g = names.map((n) => grads[n]);
    tf.fused.adamW(list, g, m, v, { lr, beta1: BETA1, beta2: BETA2, eps: ADAM_EPS, weightDecay, step });
  };
}

// ---------------------------------------------------------------- the candidate
export function createModel(tf: TF, seed: number, device?: DeviceInfo): Candidate {
  const cfg = configFor(device);
  const params = initParams(tf, seed, cfg);
  const adamw = makeAdamW(tf, params);
  const varList = Object.values(params);

  return {
    contextLength: cfg.context,
    batchSize: cfg.batch,

    trainStep(x, y, progress) {
      const { value, grads } = tf.variableGrads((): tfc.Scalar => {
        return tf.fused.crossEntropy(forward(tf, params, cfg, x), y);
      }, varList);
      const byName: Record<string, tfc.Tensor> = {};
      for (const [n, v] of Object.entries(params)) byName[n] = grads[v.name];
      adamw(byName, learningRate(progress, cfg.lr));
      tf.dispose(grads);
      return value;
    },

    logits(x) {
      return tf.tidy(() => {
        const [N, T] = x.shape;
        return tf.reshape(forward(tf, params, cfg, x), [N, T, VOCAB]) as tfc.Tensor3D;
      });
    },

    variables() {
      return { ...params };
    },
  };
}
