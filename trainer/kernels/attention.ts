// Causal self-attention, forward and backward, on plain float32 arrays: the math of the
// fused kernel, independent of the tfjs backend it runs under. Operands are packed per head
// into the thread pool's shared memory (T padded to a multiple of 8, the head size too, with
// zeros), the products run on the SIMD matmul across the pool's threads, and blocks above
// the diagonal are skipped (16-row blocks: ~60% of the full products' work).
// Layout: qkv [B*T, 3C] (q, k, v side by side, as one matmul by [C, 3C] gives them), y and
// the gradients of q, k, v the same way; rows are B sequences of T positions; C = H * D.
import { pool, type KernelCall } from './threads.js';

const BLOCK = 16;
const up8 = (n: number) => (n + 7) & ~7;

export interface AttentionShape {
  B: number;
  T: number;
  H: number;
  D: number;
}

/** Packs columns col..col+C of x [B*T, stride] into per-head rows [B*H, Tp, Dp] (or
 * transposed, [B*H, Dp, Tp]) at float `at` of f. */
function pack(f: Float32Array, at: number, x: Float32Array, stride: number, col: number, s: AttentionShape, Tp: number, Dp: number, transposed: boolean): void {
  const { B, T, H, D } = s;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = at + (b * H + h) * Tp * Dp;
      for (let t = 0; t < T; t++) {
        const src = (b * T + t) * stride + col + h * D;
        if (transposed) for (let d = 0; d < D; d++) f[base + d * Tp + t] = x[src + d];
        else f.set(x.subarray(src, src + D), base + t * Dp);
      }
    }
}

function unpack(f: Float32Array, at: number, out: Float32Array, stride: number, col: number, s: AttentionShape, Tp: number, Dp: number): void {
  const { B, T, H, D } = s;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const base = at + (b * H + h) * Tp * Dp;
      for (let t = 0; t < T; t++) out.set(f.subarray(base + t * Dp, base + t * Dp + D), (b * T + t) * stride + col + h * D);
    }
}

/** Row blocks [r0, rows) of a Tp-row matrix. */
function* blocks(Tp: number): Generator<[number, number]> {
  for (let r0 = 0; r0 < Tp; r0 += BLOCK) yield [r0, Math.min(BLOCK, Tp - r0)];
}

interface Scratch {
  f: Float32Array;
  ptr: (floatOffset: number) => number; // byte pointer of a float offset
}

/** Scratch arrays in the pool's memory; zeroed when padding exists (T or D not a multiple
 * of 8), as padded rows and columns must read as zeros (otherwise everything is written). */
function scratch(sizes: number[], zero: boolean): { s: Scratch; at: number[] } {
  const p = pool();
  p.heap.reset();
  const at = sizes.map((n) => p.heap.alloc(n * 4) / 4);
  const f = new Float32Array(p.heap.memory.buffer); // after every alloc: growing replaces the buffer
  if (zero) for (let i = 0; i < sizes.length; i++) f.fill(0, at[i], at[i] + sizes[i]);
  return { s: { f, ptr: (o) => o * 4 }, at };
}

/** y = softmax(q k^T / sqrt(D) + causal mask) v per head; returns the probabilities
 * [B*H, Tp, Tp] (zero above the diagonal and in padding) when `keepProbs`. */
export function attentionForward(qkv: Float32Array, y: Float32Array, sh: AttentionShape, keepProbs: boolean): Float32Array | null {
  const { B, T, H, D } = sh;
  const C = H * D;
  const BH = B * H;
  const Tp = up8(T);
  const Dp = up8(D);
  const hd = BH * Tp * Dp;
  const {
    s: { f, ptr },
    at: [Q, Kt, V, S, Y],
  } = scratch([hd, hd, hd, BH * Tp * Tp, hd], Tp !== T || Dp !== D);
  pack(f, Q, qkv, 3 * C, 0, sh, Tp, Dp, false);
  pack(f, Kt, qkv, 3 * C, C, sh, Tp, Dp, true);
  pack(f, V, qkv, 3 * C, 2 * C, sh, Tp, Dp, false);
  const run = pool().run;
  const calls: KernelCall[] = [];
  for (let bh = 0; bh < BH; bh++)
    for (const [r0, rows] of blocks(Tp)) {
      const N = Math.min(Tp, up8(r0 + rows)); // columns up to the diagonal
      calls.push([ptr(Q + (bh * Tp + r0) * Dp), ptr(Kt + bh * Dp * Tp), ptr(S + (bh * Tp + r0) * Tp), rows, Dp, N, Dp * 4, 4, Tp * 4, Tp * 4]);
    }
  run(calls);
  const scale = 1 / Math.sqrt(D);
  for (let bh = 0; bh < BH; bh++)
    for (let i = 0; i < Tp; i++) {
      const row = S + (bh * Tp + i) * Tp;
      if (i >= T) {
        f.fill(0, row, row + Tp);
        continue;
      }
      let max = -Infinity;
      for (let j = 0; j <= i; j++) max = Math.max(max, f[row + j] * scale);
      let sum = 0;
      for (let j = 0; j <= i; j++) {
        const e = Math.exp(f[row + j] * scale - max);
        f[row + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j <= i; j++) f[row + j] *= inv;
      f.fill(0, row + i + 1, row + Tp);
    }
  calls.length = 0;
  for (let bh = 0; bh < BH; bh++)
    for (const [r0, rows] of blocks(Tp)) {
      const K = Math.min(Tp, up8(r0 + rows)); // keys up to the diagonal
      calls.push([ptr(S + (bh * Tp + r0) * Tp), ptr(V + bh * Tp * Dp), ptr(Y + (bh * Tp + r0) * Dp), rows, K, Dp, Tp * 4, 4, Dp * 4, Dp * 4]);
    }
  run(calls);
  unpack(f, Y, y, C, 0, sh, Tp, Dp);
  return keepProbs ? f.slice(S, S + BH * Tp * Tp) : null;
}

/** The gradient dqkv of attentionForward for the output gradient dy, given its probabilities. */
export function attentionBackward(dy: Float32Array, qkv: Float32Array, probs: Float32Array, dqkv: Float32Array, sh: AttentionShape): void {
  const { B, T, H, D } = sh;
  const C = H * D;
  const BH = B * H;
  const Tp = up8(T);
  const Dp = up8(D);
  const hd = BH * Tp * Dp;
  const tt = BH * Tp * Tp;
  const {
    s: { f, ptr },
    at: [Q, K, Vt, dY, P, dS, dQ, dK, dV],
  } = scratch([hd, hd, hd, hd, tt, tt, hd, hd, hd], Tp !== T || Dp !== D);
  pack(f, Q, qkv, 3 * C, 0, sh, Tp, Dp, false);
  pack(f, K, qkv, 3 * C, C, sh, Tp, Dp, false);
  pack(f, Vt, qkv, 3 * C, 2 * C, sh, Tp, Dp, true);
  pack(f, dY, dy, C, 0, sh, Tp, Dp, false);
  f.set(probs, P);
  const run = pool().run;
  const calls: KernelCall[] = [];
  for (let bh = 0; bh < BH; bh++)
    for (const [r0, rows] of blocks(Tp)) {
      const diag = Math.min(Tp, up8(r0 + rows));
      // dP = dY V^T, columns up to the diagonal
      calls.push([ptr(dY + (bh * Tp + r0) * Dp), ptr(Vt + bh * Dp * Tp), ptr(dS + (bh * Tp + r0) * Tp), rows, Dp, diag, Dp * 4, 4, Tp * 4, Tp * 4]);
      // dV = P^T dY: rows r0.. of dV gather queries i >= r0 (P is zero above the diagonal)
      calls.push([ptr(P + bh * Tp * Tp + r0 * Tp + r0), ptr(dY + (bh * Tp + r0) * Dp), ptr(dV + (bh * Tp + r0) * Dp), rows, Tp - r0, Dp, 4, Tp * 4, Dp * 4, Dp * 4]);
    }
  run(calls);
  // dS = P * (dP - rowsum(P * dP)) / sqrt(D), on and below the diagonal
  const scale = 1 / Math.sqrt(D);
  for (let bh = 0; bh < BH; bh++)
    for (let i = 0; i < T; i++) {
      const p = P + (bh * Tp + i) * Tp;
      const d = dS + (bh * Tp + i) * Tp;
      let dot = 0;
      for (let j = 0; j <= i; j++) dot += f[p + j] * f[d + j];
      for (let j = 0; j <= i; j++) f[d + j] = f[p + j] * (f[d + j] - dot) * scale;
      f.fill(0, d + i + 1, d + Tp);
    }
  calls.length = 0;
  for (let bh = 0; bh < BH; bh++)
    for (const [r0, rows] of blocks(Tp)) {
      const diag = Math.min(Tp, up8(r0 + rows));
      // dQ = dS K, keys up to the diagonal
      calls.push([ptr(dS + (bh * Tp + r0) * Tp), ptr(K + bh * Tp * Dp), ptr(dQ + (bh * Tp + r0) * Dp), rows, diag, Dp, Tp * 4, 4, Dp * 4, Dp * 4]);
      // dK = dS^T Q, queries from r0 on
      calls.push([ptr(dS + bh * Tp * Tp + r0 * Tp + r0), ptr(Q + (bh * Tp + r0) * Dp), ptr(dK + (bh * Tp + r0) * Dp), rows, Tp - r0, Dp, 4, Tp * 4, Dp * 4, Dp * 4]);
    }
  run(calls);
  unpack(f, dQ, dqkv, 3 * C, 0, sh, Tp, Dp);
  unpack(f, dK, dqkv, 3 * C, C, sh, Tp, Dp);
  unpack(f, dV, dqkv, 3 * C, 2 * C, sh, Tp, Dp);
}
