// The math of the fused kernels other than attention, on plain float32 arrays: cross-entropy
// with its gradient, RMS norm, squared ReLU, embedding and AdamW. Single passes in JS (the
// softmax in wasm SIMD); each replaces a chain of 5 to 15 tfjs kernels (and their gradients).
import { pool } from './threads.js';

const spare = new Map<number, Float32Array[]>();
const SOFTMAX_ROWS = 64; // rows per task of a row-wise softmax

/** A float32 array of n, reused when one was given back: a fresh 2 MiB array costs more
 * (zeroing, page faults) than the kernel that fills it. */
export function borrow(n: number): Float32Array {
  return spare.get(n)?.pop() ?? new Float32Array(n);
}

/** Returns an array from borrow() for reuse (a few per size are kept). */
export function giveBack(a: Float32Array): void {
  const list = spare.get(a.length) ?? [];
  if (list.length < 4) list.push(a);
  spare.set(a.length, list);
}

/** probs = softmax of each row of z [N, V] (V a multiple of 4; else plain JS), via the wasm SIMD
 * softmax, blocks of rows across the kernel threads. */
export function softmaxRows(z: Float32Array, N: number, V: number, probs: Float32Array): void {
  if (V % 4 !== 0) {
    for (let n = 0; n < N; n++) {
      const row = n * V;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (z[row + j] > max) max = z[row + j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += probs[row + j] = Math.exp(z[row + j] - max);
      for (let j = 0; j < V; j++) probs[row + j] /= sum;
    }
    return;
  }
  const p = pool();
  p.heap.reset();
  const at = p.heap.alloc(N * V * 4);
  const f = new Float32Array(p.heap.memory.buffer);
  f.set(z.subarray(0, N * V), at / 4);
  // blocks of rows across the threads (rows are independent: no causal mask here)
  const calls = [];
  for (let r = 0; r < N; r += SOFTMAX_ROWS) calls.push({ p: at + r * V * 4, rows: Math.min(SOFTMAX_ROWS, N - r), cols: V, stride: V * 4, scale: 1, causal: false });
  p.runPlan(p.planSoftmax(calls));
  probs.set(f.subarray(at / 4, at / 4 + N * V));
}

/** Mean cross-entropy (nats) of logits [N, V] against targets [N]; fills probs with the softmax.
 * A target's probability is floored at 1e-30 (a target outside 0..V-1 has probability 0). */
export function crossEntropyForward(z: Float32Array, targets: Int32Array, N: number, V: number, probs: Float32Array): number {
  softmaxRows(z, N, V, probs);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    const p = t >= 0 && t < V ? probs[n * V + t] : 0;
    total -= Math.log(Math.max(p, 1e-30));
  }
  return total / N;
}

/** dz = (probs - onehot(targets)) * dy / N. */
export function crossEntropyBackward(probs: Float32Array, targets: Int32Array, N: number, V: number, dy: number, dz: Float32Array): void {
  const s = dy / N;
  for (let i = 0; i < N * V; i++) dz[i] = probs[i] * s;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t >= 0 && t < V) dz[n * V + t] = (probs[n * V + t] - 1) * s;
  }
}

/** y = x / sqrt(mean(x^2) + eps) over rows of C; fills rstd [N] with each row's 1 / sqrt(...). */
export function rmsNormForward(x: Float32Array, y: Float32Array, C: number, eps: number, rstd: Float32Array): void {
  const N = x.length / C;
  for (let n = 0, o = 0; n < N; n++, o += C) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) y[o + c] = x[o + c] * r;
  }
}

/** dx = r dy - x r^3 mean(dy * x), per row. */
export function rmsNormBackward(dy: Float32Array, x: Float32Array, rstd: Float32Array, C: number, dx: Float32Array): void {
  const N = x.length / C;
  for (let n = 0, o = 0; n < N; n++, o += C) {
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dy[o + c] * x[o + c];
    const r = rstd[n];
    const k = (r * r * r * dot) / C;
    for (let c = 0; c < C; c++) dx[o + c] = r * dy[o + c] - x[o + c] * k;
  }
}

/** y = relu(x)^2 */
export function reluSquaredForward(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const r = x[i] > 0 ? x[i] : 0;
    y[i] = r * r;
  }
}

/** dx = 2 relu(x) dy */
export function reluSquaredBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? 2 * x[i] * dy[i] : 0;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay of this parameter */
  decay: number;
  /** 1-based step, for the bias corrections */
  step: number;
}

/** One AdamW step of one parameter: new values into p2, m2, v2. */
export function adamWStep(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamWHyper, p2: Float32Array, m2: Float32Array, v2: Float32Array): void {
  const c1 = 1 / (1 - h.beta1 ** h.step);
  const c2 = 1 / (1 - h.beta2 ** h.step);
  const keep = h.decay ? 1 - h.lr * h.decay : 1;
  const b1 = h.beta1;
  const b2 = h.beta2;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    // rounded to float32 as stored, as the written-out tfjs version reads them back
    const mi = Math.fround(m[i] * b1 + gi * (1 - b1));
    const vi = Math.fround(v[i] * b2 + gi * gi * (1 - b2));
    m2[i] = mi;
    v2[i] = vi;
    p2[i] = p[i] * keep - ((mi * c1) / (Math.sqrt(vi * c2) + h.eps)) * h.lr;
  }
}

/** out[n] = wte[ids[n]] + wpe[n % T] for rows of C; an id outside the table gives wpe alone. */
export function embeddingForward(wte: Float32Array, wpe: Float32Array, ids: Int32Array, T: number, C: number, out: Float32Array): void {
  const V = wte.length / C;
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n];
    const o = n * C;
    const p = (n % T) * C;
    if (id >= 0 && id < V) for (let c = 0; c < C; c++) out[o + c] = wte[id * C + c] + wpe[p + c];
    else for (let c = 0; c < C; c++) out[o + c] = wpe[p + c];
  }
}

/** dwte[id] += dy[n]; dwpe[n % T] += dy[n] (dwte, dwpe zero on entry). */
export function embeddingBackward(dy: Float32Array, ids: Int32Array, T: number, C: number, dwte: Float32Array, dwpe: Float32Array): void {
  const V = dwte.length / C;
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n];
    const o = n * C;
    const p = (n % T) * C;
    if (id >= 0 && id < V) for (let c = 0; c < C; c++) dwte[id * C + c] += dy[o + c];
    for (let c = 0; c < C; c++) dwpe[p + c] += dy[o + c];
  }
}
