// Batched float32 matmul on the WASM SIMD kernel of matmul.wat. The kernel works on one
// memory: on tfjs's wasm backend that is tfjs's own heap (operands used where they lie,
// the result written straight into the output tensor); elsewhere a memory of our own that
// operands are copied into. A transposed A is read through strides; B is repacked when
// transposed, and M and N are padded to multiples of 4 and 8 in scratch space when needed
// (padded rows and columns are computed and dropped, so they need no zeroing).
import { pool, poolThreads, type KernelCall } from './threads.js';
import { matmulModule } from './wasm-binary.js';

type MatmulFn = (
  a: number, b: number, c: number, M: number, K: number, N: number,
  sam: number, sak: number, ldb: number, ldc: number,
) => void;

/** A wasm memory and an allocator in it (byte offsets, 16-byte aligned). */
export interface Heap {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
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

const instances = new WeakMap<WebAssembly.Memory, WebAssembly.Exports>();

/** The exports of matmul.wat (matmul, softmax, relu2, rmsnorm, ...) on an ordinary memory. */
export function wasmExports(memory: WebAssembly.Memory): WebAssembly.Exports {
  let e = instances.get(memory);
  if (!e) {
    e = new WebAssembly.Instance(matmulModule(false), { env: { memory } }).exports;
    instances.set(memory, e);
  }
  return e;
}

const kernelFor = (memory: WebAssembly.Memory) => wasmExports(memory).matmul as MatmulFn;

/** Runs kernel calls on the memory of `heap`, one after another on this thread. */
export function serial(heap: Heap): (calls: KernelCall[]) => void {
  const mm = kernelFor(heap.memory);
  return (calls) => {
    for (const c of calls) mm(...c);
  };
}

/** out[batch, M, N] = op(A) @ op(B) per batch element, batch = max(batchA, batchB), with
 * A, B and out at byte offsets of `heap`. `run` executes the kernel calls (on this thread,
 * or split across the pool's when `heap` is the pool's shared memory). */
export function heapBatchMatMul(heap: Heap, aPtr: number, bPtr: number, outPtr: number, s: MatmulShape, run = serial(heap)): void {
  const { batchA, batchB, M, K, N, transposeA, transposeB } = s;
  const batch = Math.max(batchA, batchB);
  const M4 = (M + 3) & ~3;
  const N8 = (N + 7) & ~7;
  const packA = M4 !== M;
  const packB = transposeB || N8 !== N;
  const direct = M4 === M && N8 === N;
  const scratch: number[] = [];
  const take = (floats: number) => {
    const p = heap.alloc(floats * 4);
    scratch.push(p);
    return p;
  };
  try {
    // every allocation happens before the first view: allocating may grow (detach) the memory
    const a = packA ? take(batchA * M4 * K) : aPtr;
    const b = packB ? take(batchB * K * N8) : bPtr;
    const c = direct ? outPtr : take(batch * M4 * N8);
    const h = new Float32Array(heap.memory.buffer);
    if (packA) {
      // as plain [M4, K] rows
      for (let i = 0; i < batchA; i++)
        for (let m = 0; m < M; m++)
          for (let k = 0, src = aPtr / 4 + i * M * K, dst = a / 4 + (i * M4 + m) * K; k < K; k++)
            h[dst + k] = transposeA ? h[src + k * M + m] : h[src + m * K + k];
    }
    if (packB) {
      for (let i = 0; i < batchB; i++)
        for (let k = 0; k < K; k++)
          for (let n = 0, src = bPtr / 4 + i * K * N, dst = b / 4 + (i * K + k) * N8; n < N; n++)
            h[dst + n] = transposeB ? h[src + n * K + k] : h[src + k * N + n];
    }
    const sam = packA || !transposeA ? K * 4 : 4;
    const sak = packA || !transposeA ? 4 : M * 4;
    const ldb = (packB ? N8 : N) * 4;
    const ldc = (direct ? N : N8) * 4;
    const calls: KernelCall[] = [];
    for (let i = 0; i < batch; i++) {
      const pa = a + (batchA === 1 ? 0 : i) * (packA ? M4 : M) * K * 4;
      const pb = b + (batchB === 1 ? 0 : i) * K * ldb;
      calls.push([pa, pb, c + i * M4 * ldc, M4, K, N8, sam, sak, ldb, ldc]);
    }
    run(calls);
    if (!direct)
      for (let i = 0; i < batch; i++)
        for (let m = 0; m < M; m++) {
          const src = c / 4 + (i * M4 + m) * N8;
          h.copyWithin(outPtr / 4 + (i * M + m) * N, src, src + N);
        }
  } finally {
    for (const p of scratch) heap.free(p);
  }
}

/** A memory of our own with a bump allocator, reset for each product. */
const own = (() => {
  let top = 0;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const heap: Heap = {
    memory,
    alloc(bytes) {
      const p = top;
      top += (bytes + 15) & ~15;
      const need = top - memory.buffer.byteLength;
      if (need > 0) memory.grow(Math.ceil(need / 65536));
      return p;
    },
    free() {},
  };
  return { heap: { ...heap, reset: () => void (top = 0) } };
})();

/** out = op(A) @ op(B) for operands in JS arrays or views of another memory: copied into
 * the thread pool's shared memory (or, with `threads` 1, a memory of our own) and back. */
export function simdBatchMatMul(a: Float32Array, b: Float32Array, s: MatmulShape, out: Float32Array, threads = poolThreads()): void {
  const p = threads > 1 ? pool() : null;
  const heap = p ? p.heap : own.heap;
  heap.reset();
  const pa = heap.alloc(a.length * 4);
  const pb = heap.alloc(b.length * 4);
  const pc = heap.alloc(out.length * 4);
  let h = new Float32Array(heap.memory.buffer);
  h.set(a, pa / 4);
  h.set(b, pb / 4);
  heapBatchMatMul(heap, pa, pb, pc, s, p ? p.run : serial(heap));
  h = new Float32Array(heap.memory.buffer);
  out.set(h.subarray(pc / 4, pc / 4 + out.length));
}
