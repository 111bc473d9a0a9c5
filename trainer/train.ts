// train.ts: the one file an experiment changes. A small byte-level GPT in TensorFlow.js.
//
// Interface (see trainer/candidate-api.ts and program.md): export `createModel(tf, seed)`
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
// Speed: on the cpu and wasm backends the harness replaces tfjs's matmul with a SIMD
// kernel (transposed operands cost nothing extra) and supplies gather's gradient, so plain
// tf.matMul / tf.gather are the fast path. Slow on wasm: rank-5 transposes, tf.tile,
// tf.pow; linalg.bandPart has no gradient. Measure with trainer/kernels/bench-step.ts.
//
// Read top to bottom: hyperparameters, model, optimizer and schedule, the Candidate.
import type * as tfc from '@tensorflow/tfjs-core';
import type { Candidate, TF } from './candidate-api.js';

// ---------------------------------------------------------------- hyperparameters
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

const HEAD_DIM = N_EMBD / N_HEAD;

// ---------------------------------------------------------------- model
type Params = Record<string, tfc.Variable>;

function initParams(tf: TF, seed: number): Params {
  const p: Params = {};
  let n = 0;
  const normal = (name: string, shape: number[], std: number) => {
    // unnamed: tfjs variable names are global, and a process may hold several models
    p[name] = tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed * 1009 + n++), true);
  };
  // residual projections are scaled down so the residual stream does not grow with depth
  const projStd = INIT_STD / Math.sqrt(2 * N_LAYER);
  normal('wte', [VOCAB, N_EMBD], INIT_STD);
  normal('wpe', [CONTEXT, N_EMBD], INIT_STD);
  for (let l = 0; l < N_LAYER; l++) {
    normal(`h${l}.attn.wq`, [N_EMBD, N_EMBD], INIT_STD);
    normal(`h${l}.attn.wk`, [N_EMBD, N_EMBD], INIT_STD);
    normal(`h${l}.attn.wv`, [N_EMBD, N_EMBD], INIT_STD);
    normal(`h${l}.attn.wo`, [N_EMBD, N_EMBD], projStd);
    normal(`h${l}.mlp.w1`, [N_EMBD, MLP_MULT * N_EMBD], INIT_STD);
    normal(`h${l}.mlp.w2`, [MLP_MULT * N_EMBD, N_EMBD], projStd);
  }
  normal('lm_head', [N_EMBD, VOCAB], INIT_STD);
  return p;
}

/** RMS norm without learned scale (as in autoresearch's train.py), over the last axis. */
function rmsNorm(tf: TF, x: tfc.Tensor2D): tfc.Tensor2D {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), NORM_EPS)));
}

/** Causal self-attention on x [B*T, C] (rows are B sequences of T positions). */
function attention(tf: TF, p: Params, l: number, x: tfc.Tensor2D, B: number, T: number, mask: tfc.Tensor2D): tfc.Tensor2D {
  // [B*T, C] -> [B*H, T, D]; separate q/k/v weights keep every transpose 4D (wasm's 5D
  // transpose is ~100x slower)
  const heads = (w: string) =>
    tf.reshape(tf.transpose(tf.reshape(tf.matMul(x, p[w]), [B, T, N_HEAD, HEAD_DIM]), [0, 2, 1, 3]), [B * N_HEAD, T, HEAD_DIM]);
  const [q, k, v] = [heads(`h${l}.attn.wq`), heads(`h${l}.attn.wk`), heads(`h${l}.attn.wv`)];
  const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HEAD_DIM)), mask));
  const y = tf.reshape(tf.transpose(tf.reshape(tf.matMul(att, v), [B, N_HEAD, T, HEAD_DIM]), [0, 2, 1, 3]), [B * T, N_EMBD]);
  return tf.matMul(y, p[`h${l}.attn.wo`]);
}

/** MLP with squared-ReLU activation (as in autoresearch's train.py). */
function mlp(tf: TF, p: Params, l: number, x: tfc.Tensor2D): tfc.Tensor2D {
  const h = tf.relu(tf.matMul(x, p[`h${l}.mlp.w1`]));
  return tf.matMul(tf.mul(h, h), p[`h${l}.mlp.w2`]);
}

/** Logits [B*T, VOCAB] for bytes x [B, T]. */
function forward(tf: TF, p: Params, x: tfc.Tensor2D, mask: tfc.Tensor2D): tfc.Tensor2D {
  const [B, T] = x.shape;
  const tokens = tf.gather(p.wte, x); // [B, T, C]
  // broadcast add: its gradient is one reduction (tile's is a slice per repeat)
  let h = tf.reshape(tf.add(tokens, tf.slice(p.wpe, [0, 0], [T, N_EMBD])), [B * T, N_EMBD]) as tfc.Tensor2D;
  for (let l = 0; l < N_LAYER; l++) {
    h = tf.add(h, attention(tf, p, l, rmsNorm(tf, h), B, T, mask));
    h = tf.add(h, mlp(tf, p, l, rmsNorm(tf, h)));
  }
  return tf.matMul(rmsNorm(tf, h), p.lm_head);
}

/** Mean cross-entropy (nats) of logits [N, VOCAB] against target bytes [N], its gradient
 * written out: one softmax forward, (p - onehot) / N back. (tfjs's logSoftmax and its
 * gradient take two exps over [N, VOCAB] and a dozen ops.) */
function crossEntropy(tf: TF, logits: tfc.Tensor2D, targets: tfc.Tensor1D): tfc.Scalar {
  const onehot = tf.cast(tf.oneHot(targets, VOCAB), 'float32'); // (wasm's OneHot ignores a float32 dtype)
  const f = tf.customGrad((...args) => {
    const [z, save] = args as [tfc.Tensor2D, tfc.GradSaveFunc];
    const p = tf.softmax(z);
    save([p, onehot]); // kept for the backward pass (the forward's other tensors are freed)
    const picked = tf.maximum(tf.sum(tf.mul(p, onehot), -1), 1e-30); // log(0) would be -inf
    return {
      value: tf.neg(tf.mean(tf.log(picked))) as tfc.Scalar,
      gradFunc: (dy, [p, onehot]) => tf.mul(tf.sub(p, onehot), tf.div(dy, targets.size)),
    };
  });
  return f(logits) as tfc.Scalar;
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above. Built once
 * (linalg.bandPart has no gradient, and a constant needs none). */
function causalMask(tf: TF, T: number): tfc.Tensor2D {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return tf.tensor2d(m, [T, T]);
}

// ---------------------------------------------------------------- optimizer and schedule
/** Learning rate at a point of the budget: linear warm-up, flat, then linear warm-down. */
function learningRate(progress: number): number {
  if (progress < WARMUP) return (LR * (progress + 1e-3)) / (WARMUP + 1e-3);
  if (progress <= 1 - WARMDOWN) return LR;
  const t = Math.min(1, (progress - (1 - WARMDOWN)) / WARMDOWN);
  return LR * (1 - t + t * FINAL_LR_FRAC);
}

/** AdamW, written out: moments m and v per parameter, bias-corrected, decoupled decay. */
function makeAdamW(tf: TF, params: Params) {
  const names = Object.keys(params);
  const m: Params = {};
  const v: Params = {};
  for (const n of names) {
    m[n] = tf.variable(tf.zerosLike(params[n]), false);
    v[n] = tf.variable(tf.zerosLike(params[n]), false);
  }
  let step = 0;
  return (grads: Record<string, tfc.Tensor>, lr: number) => {
    step++;
    const c1 = 1 / (1 - BETA1 ** step);
    const c2 = 1 / (1 - BETA2 ** step);
    tf.tidy(() => {
      for (const n of names) {
        const g = grads[n];
        const p = params[n];
        m[n].assign(tf.add(tf.mul(m[n], BETA1), tf.mul(g, 1 - BETA1)));
        v[n].assign(tf.add(tf.mul(v[n], BETA2), tf.mul(tf.square(g), 1 - BETA2)));
        const update = tf.div(tf.mul(m[n], c1), tf.add(tf.sqrt(tf.mul(v[n], c2)), ADAM_EPS));
        const decay = p.rank >= 2 && n !== 'wpe' ? WEIGHT_DECAY : 0;
        p.assign(tf.sub(decay ? tf.mul(p, 1 - lr * decay) : p, tf.mul(update, lr)));
      }
    });
  };
}

// ---------------------------------------------------------------- the candidate
export function createModel(tf: TF, seed: number): Candidate {
  const params = initParams(tf, seed);
  const mask = causalMask(tf, CONTEXT);
  const adamw = makeAdamW(tf, params);
  const varList = Object.values(params);

  return {
    contextLength: CONTEXT,
    batchSize: BATCH,

    trainStep(x, y, progress) {
      const { value, grads } = tf.variableGrads((): tfc.Scalar => {
        return crossEntropy(tf, forward(tf, params, x, mask), tf.reshape(y, [-1]));
      }, varList);
      const byName: Record<string, tfc.Tensor> = {};
      for (const [n, v] of Object.entries(params)) byName[n] = grads[v.name];
      adamw(byName, learningRate(progress));
      tf.dispose(grads);
      return value;
    },

    logits(x) {
      return tf.tidy(() => {
        const [N, T] = x.shape;
        const m = T === CONTEXT ? mask : tf.slice(mask, [0, 0], [T, T]);
        return tf.reshape(forward(tf, params, x, m), [N, T, VOCAB]) as tfc.Tensor3D;
      });
    },

    variables() {
      return { ...params };
    },
  };
}
