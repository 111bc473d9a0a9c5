// The harness's kernels on several cores: worker threads that run the SIMD matmul of
// matmul.wat on one shared WebAssembly memory. tfjs's wasm backend runs single-threaded in
// Node (its threaded build is disabled there), so operands are copied into the shared
// memory, every thread (the calling one included) computes its share of the rows, and the
// result is copied out. Threads block in Atomics.wait between products: no spinning.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { matmulModule } from './wasm-binary.js';
import type { Heap } from './simd-matmul.js';

/** One call of the wasm kernel: C[M, N] = A[M, K] @ B[K, N], pointers and strides in bytes. */
export type KernelCall = [a: number, b: number, c: number, M: number, K: number, N: number, sam: number, sak: number, ldb: number, ldc: number];
type MatmulFn = (...args: KernelCall) => void;
/** In place: softmax of scale * x over each row's first n floats (n = cols, or row + 1 when causal), zeros after. */
export type SoftmaxFn = (p: number, rows: number, cols: number, stride: number, scale: number, causal: number) => void;
/** Its backward pass, in place of dp: p * (dp - rowsum(p * dp)) * scale. */
export type SoftmaxGradFn = (p: number, dp: number, rows: number, cols: number, stride: number, scale: number, causal: number) => void;

/** A softmax call (softmax of `rows` rows at p) or a softmax-gradient call (dp given), run whole by one thread. */
export interface SoftmaxCall {
  p: number;
  dp?: number;
  rows: number;
  cols: number;
  stride: number;
  scale: number;
  causal: boolean;
}

/** A round of work laid out for the task area, made once and run any number of times (the
 * attention kernel keeps the plans of its shapes). */
export interface Plan {
  /** per round (at most MAX_TASKS tasks each): [chunk offsets (n + 1), task records...] */
  rounds: Int32Array[];
  /** the rounds' chunk counts */
  chunks: number[];
  /** multiply-adds or equivalent: below MIN_PARALLEL_WORK it runs on the calling thread */
  work: number;
}

const MAX_PAGES = 32768; // 2 GiB of address space, reserved not used
// a task record: [op, 10 arguments]; op 0 a matmul (a KernelCall), 1 a softmax (p, rows, cols,
// stride, scale as float bits, causal), 2 a softmax gradient (p, dp, rows, cols, stride, scale bits, causal)
const TASK_INTS = 11;
const OP_MATMUL = 0;
const OP_SOFTMAX = 1;
const OP_SOFTMAX_GRAD = 2;
const MAX_TASKS = 8192; // per round
const CHUNKS_PER_THREAD = 16; // work is claimed in chunks, so a thread the OS runs late takes less
const MIN_PARALLEL_WORK = 1 << 18; // multiply-adds below which waking other threads costs more than it saves
const SOFTMAX_WORK = 16; // a softmax element costs about as much as this many multiply-adds
// control words: [0] round, bumped to wake the workers (-1: stop); [1] claim word:
// (round & 0x7fff) << 16 | next chunk; [2] chunks finished this round; [3] chunks this round
const GEN = 0;
const CLAIM = 1;
const FINISHED = 2;
const TOTAL = 3;

// Shared by the workers (as source) and the calling thread: runs task records [from, to) of
// the task area, and claims chunks of this round until none is left. A thread that wakes
// late, after its round is over, claims nothing: the claim word carries the round.
const RUN_TASKS = `(t, f, from, to, fn) => {
  for (let p = from; p < to; p += ${TASK_INTS}) {
    const op = t[p];
    if (op === ${OP_MATMUL}) fn.mm(t[p + 1], t[p + 2], t[p + 3], t[p + 4], t[p + 5], t[p + 6], t[p + 7], t[p + 8], t[p + 9], t[p + 10]);
    else if (op === ${OP_SOFTMAX}) fn.sm(t[p + 1], t[p + 2], t[p + 3], t[p + 4], f[p + 5], t[p + 6]);
    else fn.sg(t[p + 1], t[p + 2], t[p + 3], t[p + 4], t[p + 5], f[p + 6], t[p + 7]);
  }
}`;
const CLAIM_LOOP = `(ctl, tasks, floats, round, fn, run) => {
  for (;;) {
    const c = Atomics.load(ctl, ${CLAIM});
    if (c >>> 16 !== (round & 0x7fff)) return;
    const chunk = c & 0xffff;
    if (chunk >= Atomics.load(ctl, ${TOTAL})) return;
    if (Atomics.compareExchange(ctl, ${CLAIM}, c, c + 1) !== c) continue;
    run(tasks, floats, tasks[chunk], tasks[chunk + 1], fn);
    Atomics.add(ctl, ${FINISHED}, 1);
    Atomics.notify(ctl, ${FINISHED});
  }
}`;
interface Fns {
  mm: MatmulFn;
  sm: SoftmaxFn;
  sg: SoftmaxGradFn;
}
type RunTasks = (t: Int32Array, f: Float32Array, from: number, to: number, fn: Fns) => void;
type ClaimLoop = (ctl: Int32Array, tasks: Int32Array, floats: Float32Array, round: number, fn: Fns, run: RunTasks) => void;
const runTasks = new Function(`return ${RUN_TASKS}`)() as RunTasks;
const claimLoop = new Function(`return ${CLAIM_LOOP}`)() as ClaimLoop;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { memory, module, control, tasks } = workerData;
const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fn = { mm: e.matmul, sm: e.softmax, sg: e.softmax_grad };
const ctl = new Int32Array(control);
const list = new Int32Array(tasks);
const floats = new Float32Array(tasks);
const run = ${RUN_TASKS};
const claim = ${CLAIM_LOOP};
parentPort.postMessage('ready');
let round = 0;
for (;;) {
  Atomics.wait(ctl, ${GEN}, round);
  round = Atomics.load(ctl, ${GEN});
  if (round < 0) break;
  claim(ctl, list, floats, round, fn, run);
}
`;

const bits = new Float32Array(1);
const bitsInt = new Int32Array(bits.buffer);
/** The bits of x as a float32, as an int (for a float argument in a task record). */
const f32bits = (x: number) => ((bits[0] = x), bitsInt[0]);

export interface Pool {
  threads: number;
  /** the shared memory and a bump allocator in it; reset() frees everything */
  heap: Heap & { reset(): void };
  /** runs the calls, split by rows across the threads; returns when all are done */
  run(calls: KernelCall[]): void;
  /** the matmul calls as a plan (split by rows across the threads), for runPlan */
  planMatmul(calls: KernelCall[]): Plan;
  /** softmax and softmax-gradient calls as a plan, each call whole on one thread */
  planSoftmax(calls: SoftmaxCall[]): Plan;
  /** runs a plan across the threads; returns when all is done */
  runPlan(plan: Plan): void;
  /** the wasm softmax on the shared memory (this thread) */
  softmax: SoftmaxFn;
  /** its backward pass, in place of dp: p * (dp - rowsum(p * dp)) * scale */
  softmaxGrad: SoftmaxGradFn;
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

/** Task records in chunks (each run by one thread) laid out as rounds of the task area. */
function layout(chunks: number[][][], work: number): Plan {
  const plan: Plan = { rounds: [], chunks: [], work };
  let i = 0;
  while (i < chunks.length) {
    // as many chunks as fit a round
    let n = 0;
    let tasks = 0;
    while (i + n < chunks.length && (n === 0 || tasks + chunks[i + n].length <= MAX_TASKS)) tasks += chunks[i + n++].length;
    const data = new Int32Array(n + 1 + tasks * TASK_INTS);
    let p = n + 1;
    for (let c = 0; c < n; c++) {
      data[c] = p;
      for (const r of chunks[i + c]) {
        data.set(r, p);
        p += TASK_INTS;
      }
    }
    data[n] = p;
    plan.rounds.push(data);
    plan.chunks.push(n);
    i += n;
  }
  return plan;
}

function startPool(threads: number): Promise<Pool> {
  const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
  const module = matmulModule(true);
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const fn: Fns = { mm: exports.matmul as MatmulFn, sm: exports.softmax as SoftmaxFn, sg: exports.softmax_grad as SoftmaxGradFn };
  const control = new SharedArrayBuffer(64);
  const ctl = new Int32Array(control);
  const maxChunks = threads * CHUNKS_PER_THREAD;
  const tasks = new Int32Array(new SharedArrayBuffer((maxChunks + 1 + TASK_INTS * (MAX_TASKS + maxChunks)) * 4));
  const floats = new Float32Array(tasks.buffer);
  const workers = Array.from({ length: threads - 1 }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { memory, module, control, tasks: tasks.buffer } }));
  const ready = Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
    w.once('message', () => res());
    w.once('error', rej);
  })));
  let round = 0;
  const pool: Pool = {
    threads,
    heap: sharedHeap(memory),
    softmax: fn.sm,
    softmaxGrad: fn.sg,
    planMatmul(calls) {
      const work = calls.reduce((w, c) => w + c[3] * c[4] * c[5], 0);
      const parts = threads === 1 || work < MIN_PARALLEL_WORK ? [calls] : splitCalls(calls, maxChunks).filter((c) => c.length > 0);
      return layout(parts.map((part) => part.map((c) => [OP_MATMUL, ...c])), work);
    },
    planSoftmax(calls) {
      const records = calls.map((c) =>
        c.dp === undefined
          ? [OP_SOFTMAX, c.p, c.rows, c.cols, c.stride, f32bits(c.scale), c.causal ? 1 : 0, 0, 0, 0, 0]
          : [OP_SOFTMAX_GRAD, c.p, c.dp, c.rows, c.cols, c.stride, f32bits(c.scale), c.causal ? 1 : 0, 0, 0, 0],
      );
      const work = calls.reduce((w, c) => w + c.rows * c.cols * SOFTMAX_WORK, 0);
      // contiguous runs of about equal work
      const parts = threads === 1 || work < MIN_PARALLEL_WORK ? 1 : Math.min(maxChunks, calls.length);
      const chunks: number[][][] = Array.from({ length: parts }, () => []);
      let acc = 0;
      calls.forEach((c, i) => {
        chunks[Math.min(parts - 1, Math.floor((acc * parts) / work))].push(records[i]);
        acc += c.rows * c.cols * SOFTMAX_WORK;
      });
      return layout(chunks.filter((c) => c.length > 0), work);
    },
    runPlan(plan) {
      plan.rounds.forEach((data, r) => {
        const n = plan.chunks[r];
        if (threads === 1 || plan.work < MIN_PARALLEL_WORK || n === 1) {
          const t = new Int32Array(data.buffer);
          runTasks(t, new Float32Array(data.buffer), n + 1, data.length, fn);
          return;
        }
        tasks.set(data);
        round = (round + 1) & 0x7fff || 1;
        Atomics.store(ctl, TOTAL, n);
        Atomics.store(ctl, FINISHED, 0);
        Atomics.store(ctl, CLAIM, round << 16);
        Atomics.store(ctl, GEN, round);
        Atomics.notify(ctl, GEN);
        claimLoop(ctl, tasks, floats, round, fn, runTasks);
        for (let done; (done = Atomics.load(ctl, FINISHED)) < n; ) Atomics.wait(ctl, FINISHED, done);
      });
    },
    run(calls) {
      if (threads === 1 || calls.reduce((w, c) => w + c[3] * c[4] * c[5], 0) < MIN_PARALLEL_WORK) {
        for (const c of calls) fn.mm(...c);
        return;
      }
      pool.runPlan(pool.planMatmul(calls));
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
