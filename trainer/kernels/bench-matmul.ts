// The SIMD matmul on the products of one training step of the default model (forward, and
// for each the two backward products), on one thread: GFLOP/s by this thread's CPU time (on a
// shared machine wall time mostly measures the neighbours), then the whole step's products
// through the thread pool by wall time.
//   npx tsx trainer/kernels/bench-matmul.ts [reps] [threads]
import { heapBatchMatMul, serial, simdBatchMatMul, type Heap, type MatmulShape } from './simd-matmul.js';
import { usePool } from './threads.js';

const reps = Number(process.argv[2] ?? 20);
const threads = Number(process.argv[3] ?? 2);
const BT = 2048;
const C = 64;
// y = x @ W of the default model: [in, out] per layer (qkv, wo, w1, w2) and the head
const layers: [number, number][] = [[C, 3 * C], [C, C], [C, 4 * C], [4 * C, C], [C, 3 * C], [C, C], [C, 4 * C], [4 * C, C], [C, 256]];
const shapes: [string, MatmulShape][] = layers.flatMap(([K, N]): [string, MatmulShape][] => [
  [`x W    [${BT},${K}]x[${K},${N}]`, { batchA: 1, batchB: 1, M: BT, K, N, transposeA: false, transposeB: false }],
  [`dy W^T [${BT},${N}]x[${K},${N}]^T`, { batchA: 1, batchB: 1, M: BT, K: N, N: K, transposeA: false, transposeB: true }],
  [`x^T dy [${BT},${K}]^Tx[${BT},${N}]`, { batchA: 1, batchB: 1, M: K, K: BT, N, transposeA: true, transposeB: false }],
]);

const threadCpuMs = () => Number(process.threadCpuUsage().user + process.threadCpuUsage().system) / 1000;

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

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
let flopsAll = 0;
let msAll = 0;
const byKind = new Map<string, { flops: number; ms: number }>();
for (const [name, s] of shapes) {
  top = 0;
  const a = heap.alloc(s.M * s.K * 4);
  const b = heap.alloc(s.K * s.N * 4);
  const c = heap.alloc(s.M * s.N * 4);
  const f = new Float32Array(memory.buffer);
  f.set(rand(s.M * s.K), a / 4);
  f.set(rand(s.K * s.N), b / 4);
  const run = serial(heap);
  for (let i = 0; i < 3; i++) heapBatchMatMul(heap, a, b, c, s, run);
  const t0 = threadCpuMs();
  for (let i = 0; i < reps; i++) heapBatchMatMul(heap, a, b, c, s, run);
  const ms = (threadCpuMs() - t0) / reps;
  const flops = 2 * s.M * s.K * s.N;
  flopsAll += flops;
  msAll += ms;
  const kind = name.slice(0, 6);
  const k = byKind.get(kind) ?? { flops: 0, ms: 0 };
  k.flops += flops;
  k.ms += ms;
  byKind.set(kind, k);
  process.stdout.write(`${name.padEnd(34)} ${ms.toFixed(3).padStart(7)} ms  ${(flops / ms / 1e6).toFixed(1).padStart(5)} GFLOP/s\n`);
}
for (const [kind, k] of byKind) process.stdout.write(`${kind}: ${(k.flops / k.ms / 1e6).toFixed(1)} GFLOP/s, ${k.ms.toFixed(2)} ms per step\n`);
process.stdout.write(`one thread, the step's ${shapes.length} products: ${msAll.toFixed(2)} ms of CPU, ${(flopsAll / msAll / 1e6).toFixed(1)} GFLOP/s\n`);

// the same products through the pool (copied into its shared memory and back, as on the wasm backend)
const pool = await usePool(threads);
const data = shapes.map(([, s]) => ({ s, a: rand(s.M * s.K), b: rand(s.K * s.N), out: new Float32Array(s.M * s.N) }));
const all = () => {
  for (const d of data) simdBatchMatMul(d.a, d.b, d.s, d.out, threads);
};
for (let i = 0; i < 3; i++) all();
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < reps; i++) all();
const wall = (performance.now() - t0) / reps;
const cpu = process.cpuUsage(c0);
process.stdout.write(
  `${threads} thread(s), the step's products with copies: ${wall.toFixed(2)} ms wall (${(flopsAll / wall / 1e6).toFixed(1)} GFLOP/s), ${((cpu.user + cpu.system) / 1000 / reps).toFixed(2)} ms of process CPU\n`,
);
pool.stop();
