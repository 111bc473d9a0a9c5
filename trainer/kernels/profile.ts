// Where a training step goes: kernel dispatches per step and time per op class, measured by
// wrapping every kernel of the backend with a timer (restored afterwards). For benchmarks
// only: the harness's children never wrap kernels (the kernel guard would fail them).
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

export interface StepProfile {
  steps: number;
  /** kernel dispatches per step */
  dispatches: number;
  /** wall ms per step, and the part of it inside kernels */
  stepMs: number;
  kernelMs: number;
  /** per op class: ms per step and dispatches per step, largest first */
  classes: { name: string; ms: number; calls: number; kernels: string }[];
}

const CLASSES: [string, RegExp][] = [
  ['matmul', /^(BatchMatMul|_FusedMatMul)$/],
  ['attention (fused)', /^FusedCausalAttention/],
  ['optimizer (fused)', /^FusedAdamW$/],
  ['loss (fused)', /^FusedCrossEntropy/],
  ['norm / activation (fused)', /^Fused/],
  ['elementwise', /^(Add|AddN|Sub|Multiply|RealDiv|Square|Sqrt|Rsqrt|Neg|Relu|Step|Exp|Log|Maximum|Minimum|Pow|Cast|Fill|ZerosLike|OnesLike)$/],
  ['reductions, softmax', /^(Sum|Mean|Max|Softmax|LogSoftmax|Prod)$/],
  ['embedding', /^(GatherV2|UnsortedSegmentSum|OneHot)$/],
  ['layout (reshape, slice, transpose, pad)', /^(Reshape|Identity|Slice|Transpose|PadV2|Concat|Tile|StridedSlice)$/],
];
const classOf = (kernel: string) => CLASSES.find(([, re]) => re.test(kernel))?.[0] ?? 'other';

/** Runs `step` `steps` times with every kernel of `backend` timed; returns the profile. */
export async function profileSteps(backend: string, steps: number, step: () => Promise<void>): Promise<StepProfile> {
  const spent = new Map<string, { ms: number; calls: number }>();
  const originals = tf.getKernelsForBackend(backend) as KernelConfig[];
  for (const k of originals) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        const e = spent.get(k.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        spent.set(k.kernelName, e);
        return out;
      },
    });
  }
  try {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await step();
    const stepMs = (performance.now() - t0) / steps;
    const byClass = new Map<string, { ms: number; calls: number; kernels: Set<string> }>();
    for (const [k, e] of spent) {
      const c = byClass.get(classOf(k)) ?? { ms: 0, calls: 0, kernels: new Set<string>() };
      c.ms += e.ms / steps;
      c.calls += e.calls / steps;
      c.kernels.add(k);
      byClass.set(classOf(k), c);
    }
    const classes = [...byClass].map(([name, c]) => ({ name, ms: c.ms, calls: c.calls, kernels: [...c.kernels].sort().join(' ') })).sort((a, b) => b.ms - a.ms);
    return {
      steps,
      dispatches: classes.reduce((s, c) => s + c.calls, 0),
      stepMs,
      kernelMs: classes.reduce((s, c) => s + c.ms, 0),
      classes,
    };
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  }
}
