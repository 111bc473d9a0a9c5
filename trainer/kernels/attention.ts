// Causal self-attention, forward and backward, on plain float32 arrays: the math of the
// fused kernel, independent of the tfjs backend it runs under. qkv is copied once into the
// thread pool's shared memory (T and the head size D padded to multiples of 8 with zeros when
// they are not), the matmul kernel reads each head in place through row strides, and writes
// its results in place the same way; only K (forward) and V (backward) are transposed. The
// products run across the pool's threads and skip the blocks above the diagonal (16-row
// blocks: ~60% of the full products' work); the softmax is the wasm SIMD one, a head per
// call, also across the threads. The calls of a shape are planned once (see `planned`).
// Layout: qkv [B*T, 3C] (q, k, v side by side, as one matmul by [C, 3C] gives them), y [B*T, C],
// dqkv like qkv; rows are B sequences of T positions; C = H * D.
import { borrow } from './fused-math.js';
import { pool, type KernelCall, type Plan } from './threads.js';

const BLOCK = 16;
const up8 = (n: number) => (n + 7) & ~7;

export interface AttentionShape {
  B: number;
  T: number;
  H: number;
  D: number;
}

/** Padded sizes and the row strides (floats) of the padded layouts in scratch. */
function dims(sh: AttentionShape) {
  const Tp = up8(sh.T);
  const Dp = up8(sh.D);
  const padded = Tp !== sh.T || Dp !== sh.D;
  return { Tp, Dp, padded, rs1: sh.H * Dp, rs3: 3 * sh.H * Dp, BH: sh.B * sh.H };
}

/** x [B*T, w*H*D] into f at `at` as [B, Tp, w*H*Dp] (the padding already zero), or back. */
function copyRows(f: Float32Array, at: number, x: Float32Array, w: number, sh: AttentionShape, out: boolean): void {
  const { Tp, Dp, padded } = dims(sh);
  const { B, T, H, D } = sh;
  if (!padded) {
    if (out) x.set(f.subarray(at, at + x.length));
    else f.set(x, at);
    return;
  }
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let g = 0; g < w * H; g++) {
        const src = (b * T + t) * w * H * D + g * D;
        const dst = at + (b * Tp + t) * w * H * Dp + g * Dp;
        for (let d = 0; d < D; d++) {
          if (out) x[src + d] = f[dst + d];
          else f[dst + d] = x[src + d];
        }
      }
}

/** The `which` (0 q, 1 k, 2 v) part of padded qkv, per head transposed: [B*H, Dp, Tp] at `at`. */
function transposeHeads(f: Float32Array, at: number, qkvP: number, which: number, sh: AttentionShape): void {
  const { Tp, Dp, rs3 } = dims(sh);
  const { B, T, H, D } = sh;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const dst = at + (b * H + h) * Dp * Tp;
      for (let t = 0; t < T; t++) {
        const src = qkvP + (b * Tp + t) * rs3 + which * H * Dp + h * Dp;
        for (let d = 0; d < D; d++) f[dst + d * Tp + t] = f[src + d];
      }
    }
}

/** For each head b, h and each 16-row block r0 (rows of it) of a Tp-row matrix, the calls of `make`. */
function perBlock(sh: AttentionShape, Tp: number, make: (b: number, h: number, r0: number, rows: number, out: KernelCall[]) => void): KernelCall[] {
  const out: KernelCall[] = [];
  for (let b = 0; b < sh.B; b++)
    for (let h = 0; h < sh.H; h++)
      for (let r0 = 0; r0 < Tp; r0 += BLOCK) make(b, h, r0, Math.min(BLOCK, Tp - r0), out);
  return out;
}

/** The plans of the shapes seen (their calls depend only on the shape and the scratch offsets,
 * which the same shape gets every time): building and splitting ~1,000 calls costs more than
 * the products of a small model. */
const plans = new Map<string, Plan>();
function planned(key: string, make: () => Plan): Plan {
  let plan = plans.get(key);
  if (!plan) {
    if (plans.size >= 64) plans.clear();
    plan = make();
    plans.set(key, plan);
  }
  return plan;
}

/** Scratch arrays (float offsets) in the pool's memory; zeroed when padding exists, as padded
 * rows and columns must read as zeros (otherwise everything is written before it is read). */
function scratch(sizes: number[], zero: boolean): { f: Float32Array; at: number[] } {
  const p = pool();
  p.heap.reset();
  const at = sizes.map((n) => p.heap.alloc(n * 4) / 4);
  const f = new Float32Array(p.heap.memory.buffer); // after every alloc: growing replaces the buffer
  if (zero) for (let i = 0; i < sizes.length; i++) f.fill(0, at[i], at[i] + sizes[i]);
  return { f, at };
}

const ptr = (floatOffset: number) => floatOffset * 4;

/** y = softmax(q k^T / sqrt(D) + causal mask) v per head; returns the probabilities
 * [B*H, Tp, Tp] (zero above the diagonal and in padding) when `keepProbs`. */
export function attentionForward(qkv: Float32Array, y: Float32Array, sh: AttentionShape, keepProbs: boolean): Float32Array | null {
  const { B, T, H, D } = sh;
  const { Tp, Dp, padded, rs1, rs3, BH } = dims(sh);
  const {
    f,
    at: [QKV, Kt, S, Y],
  } = scratch([B * Tp * rs3, BH * Dp * Tp, BH * Tp * Tp, B * Tp * rs1], padded);
  copyRows(f, QKV, qkv, 3, sh, false);
  transposeHeads(f, Kt, QKV, 1, sh);
  const p = pool();
  const key = `${B},${T},${H},${D},${QKV},${Kt},${S},${Y},${p.threads}`;
  // S = Q K^T per head, columns up to the diagonal
  p.runPlan(planned(`qk ${key}`, () => p.planMatmul(perBlock(sh, Tp, (b, h, r0, rows, out) => {
    const bh = b * H + h;
    const diag = Math.min(Tp, up8(r0 + rows));
    out.push([ptr(QKV + (b * Tp + r0) * rs3 + h * Dp), ptr(Kt + bh * Dp * Tp), ptr(S + (bh * Tp + r0) * Tp), rows, Dp, diag, rs3 * 4, 4, Tp * 4, Tp * 4]);
  }))));
  // softmax of each head's T x T scores, causal; padded rows (T..Tp) stay zero
  p.runPlan(planned(`softmax ${key}`, () => p.planSoftmax(Array.from({ length: BH }, (_, bh) => ({ p: ptr(S + bh * Tp * Tp), rows: T, cols: Tp, stride: Tp * 4, scale: 1 / Math.sqrt(D), causal: true })))));
  if (Tp !== T) for (let bh = 0; bh < BH; bh++) f.fill(0, S + (bh * Tp + T) * Tp, S + (bh + 1) * Tp * Tp);
  // Y = P V per head, keys up to the diagonal
  p.runPlan(planned(`pv ${key}`, () => p.planMatmul(perBlock(sh, Tp, (b, h, r0, rows, out) => {
    const bh = b * H + h;
    const diag = Math.min(Tp, up8(r0 + rows));
    const v = QKV + b * Tp * rs3 + 2 * H * Dp + h * Dp;
    out.push([ptr(S + (bh * Tp + r0) * Tp), ptr(v), ptr(Y + (b * Tp + r0) * rs1 + h * Dp), rows, diag, Dp, Tp * 4, 4, rs3 * 4, rs1 * 4]);
  }))));
  copyRows(f, Y, y, 1, sh, true);
  if (!keepProbs) return null;
  const probs = borrow(BH * Tp * Tp);
  probs.set(f.subarray(S, S + BH * Tp * Tp));
  return probs;
}

/** The gradient dqkv of attentionForward for the output gradient dy, given its probabilities. */
export function attentionBackward(dy: Float32Array, qkv: Float32Array, probs: Float32Array, dqkv: Float32Array, sh: AttentionShape): void {
  const { B, T, H, D } = sh;
  const { Tp, Dp, padded, rs1, rs3, BH } = dims(sh);
  const tt = BH * Tp * Tp;
  const {
    f,
    at: [QKV, dY, Vt, P, dS, dQKV],
  } = scratch([B * Tp * rs3, B * Tp * rs1, BH * Dp * Tp, tt, tt, B * Tp * rs3], padded);
  copyRows(f, QKV, qkv, 3, sh, false);
  copyRows(f, dY, dy, 1, sh, false);
  transposeHeads(f, Vt, QKV, 2, sh);
  f.set(probs, P);
  const p = pool();
  const key = `${B},${T},${H},${D},${QKV},${dY},${Vt},${P},${dS},${dQKV},${p.threads}`;
  p.runPlan(planned(`dp dv ${key}`, () => p.planMatmul(perBlock(sh, Tp, (b, h, r0, rows, out) => {
    const bh = b * H + h;
    const diag = Math.min(Tp, up8(r0 + rows));
    const dy0 = dY + (b * Tp + r0) * rs1 + h * Dp;
    // dP = dY V^T, columns up to the diagonal
    out.push([ptr(dy0), ptr(Vt + bh * Dp * Tp), ptr(dS + (bh * Tp + r0) * Tp), rows, Dp, diag, rs1 * 4, 4, Tp * 4, Tp * 4]);
    // dV = P^T dY: rows r0.. of dV gather queries i >= r0 (P is zero above the diagonal)
    const dv = dQKV + (b * Tp + r0) * rs3 + 2 * H * Dp + h * Dp;
    out.push([ptr(P + bh * Tp * Tp + r0 * Tp + r0), ptr(dy0), ptr(dv), rows, Tp - r0, Dp, 4, Tp * 4, rs1 * 4, rs3 * 4]);
  }))));
  // dS = P * (dP - rowsum(P * dP)) / sqrt(D), on and below the diagonal (padded rows stay zero)
  p.runPlan(planned(`softmax grad ${key}`, () => p.planSoftmax(Array.from({ length: BH }, (_, bh) => ({ p: ptr(P + bh * Tp * Tp), dp: ptr(dS + bh * Tp * Tp), rows: T, cols: Tp, stride: Tp * 4, scale: 1 / Math.sqrt(D), causal: true })))));
  if (Tp !== T) for (let bh = 0; bh < BH; bh++) f.fill(0, dS + (bh * Tp + T) * Tp, dS + (bh + 1) * Tp * Tp);
  p.runPlan(planned(`dq dk ${key}`, () => p.planMatmul(perBlock(sh, Tp, (b, h, r0, rows, out) => {
    const bh = b * H + h;
    const diag = Math.min(Tp, up8(r0 + rows));
    const row0 = (b * Tp + r0) * rs3 + h * Dp;
    // dQ = dS K, keys up to the diagonal
    out.push([ptr(dS + (bh * Tp + r0) * Tp), ptr(QKV + b * Tp * rs3 + H * Dp + h * Dp), ptr(dQKV + row0), rows, diag, Dp, Tp * 4, 4, rs3 * 4, rs3 * 4]);
    // dK = dS^T Q, queries from r0 on
    out.push([ptr(dS + bh * Tp * Tp + r0 * Tp + r0), ptr(QKV + row0), ptr(dQKV + row0 + H * Dp), rows, Tp - r0, Dp, 4, Tp * 4, rs3 * 4, rs3 * 4]);
  }))));
  copyRows(f, dQKV, dqkv, 3, sh, true);
}
