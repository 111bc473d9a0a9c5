// Batched float32 matmul on the WASM SIMD kernel of matmul.wat. Operands are packed into
// the kernel's own memory (transposed and padded there, so the kernel itself only does
// plain A @ B with M % 4 == 0 and N % 8 == 0); padded rows and columns are computed and
// dropped, so they need no zeroing.
import { MATMUL_WASM_BASE64 } from './matmul-wasm.js';

type MatmulFn = (a: number, b: number, c: number, M: number, K: number, N: number) => void;

let instance: { memory: WebAssembly.Memory; matmul: MatmulFn } | undefined;

function kernel() {
  if (!instance) {
    const module = new WebAssembly.Module(Buffer.from(MATMUL_WASM_BASE64, 'base64'));
    const exports = new WebAssembly.Instance(module).exports;
    instance = { memory: exports.memory as WebAssembly.Memory, matmul: exports.matmul as MatmulFn };
  }
  return instance;
}

/** Float32 view of the kernel memory, at least `floats` long (the memory only grows). */
function heap(floats: number): Float32Array {
  const { memory } = kernel();
  const need = floats * 4 - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  return new Float32Array(memory.buffer);
}

export interface MatmulShape {
  batchA: number; // 1 broadcasts A over the batch of B
  batchB: number; // 1 broadcasts B over the batch of A
  M: number;
  K: number;
  N: number;
  transposeA: boolean; // A is stored [K, M]
  transposeB: boolean; // B is stored [N, K]
}

/** out[batch, M, N] = op(A) @ op(B) per batch element, batch = max(batchA, batchB). */
export function simdBatchMatMul(a: Float32Array, b: Float32Array, s: MatmulShape, out: Float32Array): void {
  const { batchA, batchB, M, K, N, transposeA, transposeB } = s;
  const batch = Math.max(batchA, batchB);
  const M4 = (M + 3) & ~3;
  const N8 = (N + 7) & ~7;
  const aOff = 0;
  const bOff = aOff + batchA * M4 * K;
  const cOff = bOff + batchB * K * N8;
  const h = heap(cOff + batch * M4 * N8);
  // pack A as [batchA, M4, K]
  if (!transposeA) {
    if (M4 === M) h.set(a, aOff);
    else for (let i = 0; i < batchA; i++) h.set(a.subarray(i * M * K, (i + 1) * M * K), aOff + i * M4 * K);
  } else {
    for (let i = 0; i < batchA; i++) {
      const src = i * K * M;
      const dst = aOff + i * M4 * K;
      for (let m = 0; m < M; m++) for (let k = 0, w = dst + m * K; k < K; k++) h[w + k] = a[src + k * M + m];
    }
  }
  // pack B as [batchB, K, N8]
  if (!transposeB) {
    if (N8 === N) h.set(b, bOff);
    else
      for (let i = 0; i < batchB; i++)
        for (let k = 0; k < K; k++) h.set(b.subarray((i * K + k) * N, (i * K + k + 1) * N), bOff + (i * K + k) * N8);
  } else {
    for (let i = 0; i < batchB; i++) {
      const src = i * N * K;
      const dst = bOff + i * K * N8;
      for (let n = 0; n < N; n++) for (let k = 0, r = src + n * K; k < K; k++) h[dst + k * N8 + n] = b[r + k];
    }
  }
  const { matmul } = kernel();
  for (let i = 0; i < batch; i++) {
    const pa = aOff + (batchA === 1 ? 0 : i) * M4 * K;
    const pb = bOff + (batchB === 1 ? 0 : i) * K * N8;
    matmul(pa * 4, pb * 4, (cOff + i * M4 * N8) * 4, M4, K, N8);
  }
  if (M4 === M && N8 === N) out.set(h.subarray(cOff, cOff + batch * M * N));
  else
    for (let i = 0; i < batch; i++)
      for (let m = 0; m < M; m++) {
        const src = cOff + (i * M4 + m) * N8;
        out.set(h.subarray(src, src + N), (i * M + m) * N);
      }
}
