// The harness's kernels on several cores: worker threads that run the SIMD matmul of
// matmul.wat on one shared WebAssembly memory. tfjs's wasm backend runs single-threaded in
// Node (its threaded build is disabled there), so operands are copied into the shared
// memory, every thread (the calling one included) computes its share of the rows, and the
// result is copied out. Threads block in Atomics.wait between products: no spinning.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MATMUL_SHARED_WASM_BASE64 } from './matmul-wasm.js';
import type { Heap } from './simd-matmul.js';

/** One call of the wasm kernel: C[M, N] = A[M, K] @ B[K, N], pointers and strides in bytes. */
export type KernelCall = [a: number, b: number, c: number, M: number, K: number, N: number, sam: number, sak: number, ldb: number, ldc: number];
type MatmulFn = (...args: KernelCall) => void;
/** In place: softmax of scale * x over each row's first n floats (n = cols, or row + 1 when causal), zeros after. */
export type SoftmaxFn = (p: number, rows: number, cols: number, stride: number, scale: number, causal: number) => void;

const MAX_PAGES = 32768; // 2 GiB of address space, reserved not used
const CALL_INTS = 10;
const MAX_CALLS = 8192; // per round
const CHUNKS_PER_THREAD = 16; // work is claimed in chunks, so a thread the OS runs late takes less
const MIN_PARALLEL_WORK = 1 << 18; // multiply-adds below which waking other threads costs more than it saves
// control words: [0] round, bumped to wake the workers (-1: stop); [1] claim word:
// (round & 0x7fff) << 16 | next chunk; [2] chunks finished this round; [3] chunks this round
const GEN = 0;
const CLAIM = 1;
const FINISHED = 2;
const TOTAL = 3;

// Shared by the workers (as source) and the calling thread: claim chunks of this round
// until none is left. A thread that wakes late, after its round is over, claims nothing:
// the claim word carries the round. Task area: [chunk offsets (n + 1), calls...].
const CLAIM_LOOP = `(ctl, tasks, round, mm) => {
  for (;;) {
    const c = Atomics.load(ctl, ${CLAIM});
    if (c >>> 16 !== (round & 0x7fff)) return;
    const chunk = c & 0xffff;
    if (chunk >= Atomics.load(ctl, ${TOTAL})) return;
    if (Atomics.compareExchange(ctl, ${CLAIM}, c, c + 1) !== c) continue;
    for (let p = tasks[chunk]; p < tasks[chunk + 1]; p += ${CALL_INTS})
      mm(tasks[p], tasks[p + 1], tasks[p + 2], tasks[p + 3], tasks[p + 4], tasks[p + 5], tasks[p + 6], tasks[p + 7], tasks[p + 8], tasks[p + 9]);
    Atomics.add(ctl, ${FINISHED}, 1);
    Atomics.notify(ctl, ${FINISHED});
  }
}`;
type ClaimLoop = (ctl: Int32Array, tasks: Int32Array, round: number, mm: MatmulFn) => void;
const claimLoop = new Function(`return ${CLAIM_LOOP}`)() as ClaimLoop;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { memory, module, control, tasks } = workerData;
const mm = new WebAssembly.Instance(module, { env: { memory } }).exports.matmul;
const ctl = new Int32Array(control);
const list = new Int32Array(tasks);
const claim = ${CLAIM_LOOP};
parentPort.postMessage('ready');
let round = 0;
for (;;) {
  Atomics.wait(ctl, ${GEN}, round);
  round = Atomics.load(ctl, ${GEN});
  if (round < 0) break;
  claim(ctl, list, round, mm);
}
`;

export interface Pool {
  threads: number;
  /** the shared memory and a bump allocator in it; reset() frees everything */
  heap: Heap & { reset(): void };
  /** runs the calls, split by rows across the threads; returns when all are done */
  run(calls: KernelCall[]): void;
  /** the wasm softmax on the shared memory (this thread) */
  softmax: SoftmaxFn;
  /** its backward pass, in place of dp: p * (dp - rowsum(p * dp)) * scale */
  softmaxGrad: (p: number, dp: number, rows: number, cols: number, stride: number, scale: number, causal: number) => void;
  /** ends the worker threads */
  stop(): void;
}

function sharedHeap(memory: WebAssembly.Memory): Pool['heap'] {
  let top = 0;
  return {
    memory,
    alloc(bytes) {
      const p = top;
      top += (bytes + 15) & ~15;
      const need = top - memory.buffer.byteLength;
      if (need > 0) {
        const pages = Math.ceil(need / 65536);
        if (memory.buffer.byteLength / 65536 + pages > MAX_PAGES) throw new Error(`the harness's kernels need more than ${MAX_PAGES / 16} MiB of scratch memory`);
        memory.grow(pages);
      }
      return p;
    },
    free() {},
    reset: () => void (top = 0),
  };
}

/** Splits the calls into `parts` lists of about equal work, cutting a call's rows (in
 * multiples of 4, the kernel's tile) where a boundary falls inside it. */
export function splitCalls(calls: KernelCall[], parts: number): KernelCall[][] {
  const work = (c: KernelCall) => c[3] * c[4] * c[5];
  const total = calls.reduce((s, c) => s + work(c), 0);
  const out: KernelCall[][] = Array.from({ length: parts }, () => []);
  let part = 0;
  let acc = 0;
  for (const call of calls) {
    let rows = call[3];
    let m0 = 0;
    const perRow = call[4] * call[5];
    while (rows > 0) {
      const room = ((part + 1) * total) / parts - acc; // work the current part may still take
      let take = part === parts - 1 ? rows : Math.round(room / perRow / 4) * 4;
      take = Math.max(0, Math.min(rows, take));
      if (take > 0) {
        const [a, b, c, , K, N, sam, sak, ldb, ldc] = call;
        out[part].push([a + m0 * sam, b, c + m0 * ldc, take, K, N, sam, sak, ldb, ldc]);
        m0 += take;
        rows -= take;
        acc += take * perRow;
      }
      if (rows > 0) part++;
    }
  }
  return out;
}

function startPool(threads: number): Promise<Pool> {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
  const module = new WebAssembly.Module(Buffer.from(MATMUL_SHARED_WASM_BASE64, 'base64'));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const mm = exports.matmul as MatmulFn;
  const control = new SharedArrayBuffer(64);
  const ctl = new Int32Array(control);
  const maxChunks = threads * CHUNKS_PER_THREAD;
  const tasks = new Int32Array(new SharedArrayBuffer((maxChunks + 1 + CALL_INTS * (MAX_CALLS + maxChunks)) * 4));
  const workers = Array.from({ length: threads - 1 }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, module, control, tasks: tasks.buffer } }));
  const ready = Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
    w.once('message', () => res());
    w.once('error', rej);
  })));
  let round = 0;
  const pool: Pool = {
    threads,
    heap: sharedHeap(memory),
    softmax: exports.softmax as SoftmaxFn,
    softmaxGrad: exports.softmax_grad as Pool['softmaxGrad'],
    run(calls) {
      if (threads === 1 || calls.reduce((w, c) => w + c[3] * c[4] * c[5], 0) < MIN_PARALLEL_WORK) {
        for (const c of calls) mm(...c);
        return;
      }
      for (let start = 0; start < calls.length; start += MAX_CALLS) {
        const chunks = splitCalls(calls.slice(start, start + MAX_CALLS), maxChunks).filter((c) => c.length > 0);
        let p = chunks.length + 1;
        chunks.forEach((chunk, i) => {
          tasks[i] = p;
          for (const c of chunk) {
            tasks.set(c, p);
            p += CALL_INTS;
          }
        });
        tasks[chunks.length] = p;
        round = (round + 1) & 0x7fff || 1;
        Atomics.store(ctl, TOTAL, chunks.length);
        Atomics.store(ctl, FINISHED, 0);
        Atomics.store(ctl, CLAIM, round << 16);
        Atomics.store(ctl, GEN, round);
        Atomics.notify(ctl, GEN);
        claimLoop(ctl, tasks, round, mm);
        for (let done; (done = Atomics.load(ctl, FINISHED)) < chunks.length; ) Atomics.wait(ctl, FINISHED, done);
      }
    },
    stop() {
      Atomics.store(ctl, GEN, -1);
      Atomics.notify(ctl, GEN);
    },
  };
  return ready.then(() => {
    for (const w of workers) w.unref(); // blocked workers must not keep the process alive
    return pool;
  });
}

let current: Promise<Pool> | undefined;
let currentThreads = 0;

/** The kernels' thread count: ARS_KERNEL_THREADS if set, else every core the process may use (at most 8). */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const set = env.ARS_KERNEL_THREADS;
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`ARS_KERNEL_THREADS must be an integer from 1 to 64, got "${set}".`);
    return n;
  }
  return Math.max(1, Math.min(8, availableParallelism()));
}

let ready: Pool | undefined;

/** Starts (or restarts with another thread count) the pool the kernels use. */
export async function usePool(threads = defaultThreads()): Promise<Pool> {
  if (!current || currentThreads !== threads) {
    current?.then((p) => p.stop());
    currentThreads = threads;
    current = startPool(threads);
  }
  ready = await current;
  return ready;
}

/** The started pool's thread count, 1 before usePool(). */
export function poolThreads(): number {
  return ready?.threads ?? 1;
}

/** The pool, once usePool() has started it; kernels call this synchronously. */
export function pool(): Pool {
  if (!ready) throw new Error('the kernel thread pool is not started: call usePool() (registerKernels does) first.');
  return ready;
}
