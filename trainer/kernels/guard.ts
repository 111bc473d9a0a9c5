// The kernels are harness code. After the harness registers its kernels (tfjs's own, the
// SIMD matmul, the fused ops), it snapshots everything that decides what a kernel call
// runs: the kernel registry (every backend), the gradient registry, the engine's dispatch
// methods and the active backend. The train and eval children compare against the snapshot
// after the candidate loads and after every call into it, as they do for the clock. A
// candidate runs in the same process, so it can change these; it cannot do so unseen.
import * as tf from '@tensorflow/tfjs-core';

type Entry = readonly [config: object, ...fns: unknown[]];

export interface KernelSnapshot {
  kernels: Map<string, Entry>;
  grads: Map<string, Entry>;
  registries: { kernels: Map<string, object>; grads: Map<string, object> };
  engine: [string, unknown][];
}

interface Globals {
  _tfGlobals?: Map<string, unknown>;
}

/** The registries tfjs-core keeps in its globals (the same Map objects its register calls use). */
function registries(): KernelSnapshot['registries'] {
  const globals = (globalThis as Globals)._tfGlobals;
  const kernels = globals?.get('kernelRegistry');
  const grads = globals?.get('gradRegistry');
  if (!(kernels instanceof Map) || !(grads instanceof Map)) throw new Error('tfjs-core keeps its kernel registry elsewhere than this harness expects; update trainer/kernels/guard.ts.');
  return { kernels, grads };
}

function kernelEntry(c: tf.KernelConfig): Entry {
  return [c, c.kernelName, c.backendName, c.kernelFunc, c.setupFunc, c.disposeFunc];
}

function gradEntry(c: tf.GradConfig): Entry {
  return [c, c.kernelName, c.gradFunc, c.inputsToSave, c.outputsToSave, c.saveAllInputs, ...(c.inputsToSave ?? []), ...(c.outputsToSave ?? [])];
}

function engineState(): [string, unknown][] {
  const e = tf.engine() as unknown as Record<string, unknown>;
  return [
    ["engine's runKernel", e.runKernel],
    ["engine's runKernelFunc", e.runKernelFunc],
    ["engine's clone of saved tensors", e.clone],
    ['the active backend', tf.getBackend()],
    ['the backend instance', tf.backend()],
  ];
}

export function snapshotKernels(): KernelSnapshot {
  const reg = registries();
  return {
    kernels: new Map([...reg.kernels].map(([k, c]) => [k, kernelEntry(c as tf.KernelConfig)])),
    grads: new Map([...reg.grads].map(([k, c]) => [k, gradEntry(c as tf.GradConfig)])),
    registries: reg,
    engine: engineState(),
  };
}

const same = (a: Entry | undefined, b: Entry | undefined) => !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);

function changedKey(before: Map<string, Entry>, now: Map<string, Entry>): string | null {
  for (const [k, e] of before) if (!same(e, now.get(k))) return k;
  for (const k of now.keys()) if (!before.has(k)) return k;
  return null;
}

/** What was changed since the snapshot (e.g. "the kernel BatchMatMul@wasm"), or null. */
export function kernelsTampered(snap: KernelSnapshot): string | null {
  let reg: KernelSnapshot['registries'];
  try {
    reg = registries();
  } catch {
    return "tfjs's kernel registry";
  }
  if (reg.kernels !== snap.registries.kernels) return "tfjs's kernel registry";
  if (reg.grads !== snap.registries.grads) return "tfjs's gradient registry";
  const kernels = changedKey(snap.kernels, new Map([...reg.kernels].map(([k, c]) => [k, kernelEntry(c as tf.KernelConfig)])));
  if (kernels) {
    // registry keys are `${backend}_${kernelName}`
    const i = kernels.indexOf('_');
    return `the kernel ${kernels.slice(i + 1)}@${kernels.slice(0, i)}`;
  }
  const grads = changedKey(snap.grads, new Map([...reg.grads].map(([k, c]) => [k, gradEntry(c as tf.GradConfig)])));
  if (grads) return `the gradient of ${grads}`;
  const now = engineState();
  for (let i = 0; i < now.length; i++) if (now[i][1] !== snap.engine[i][1]) return now[i][0];
  return null;
}
