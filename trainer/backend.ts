// Loads the tfjs backend inside a child process. Order for `auto`: tfjs-node-gpu, webgpu (a
// hardware adapter only), tfjs-node, wasm, cpu. The native and WebGPU packages are optional
// dependencies that may be absent, so they are only ever imported dynamically. The result says which backend really ran and whether a GPU
// did: tfjs-node-gpu falls back to the CPU silently when CUDA libraries are missing.
import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import type { DeviceInfo, TF } from './candidate-api.js';
import { detectHardware, hardwareClass, type HardwareInfo } from './hardware.js';
import { loadWebGpu, webgpuClass, type AdapterInfo } from './webgpu.js';

export const BACKEND_CHOICES = ['auto', 'node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type Concrete = Exclude<BackendChoice, 'auto'>;
const AUTO_ORDER: Concrete[] = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'];

export interface LoadedBackend {
  tf: TF;
  choice: Concrete;
  /** tfjs's own name: tensorflow | wasm | cpu */
  backend: string;
  gpu: boolean;
  /** why the device is not what the choice suggests, e.g. tfjs-node-gpu without CUDA */
  note: string;
  /** what was tried before, and why it failed */
  skipped: string[];
  /** kernels the harness replaced with its own or added (fused), as "Kernel@backend" */
  kernels: string[];
  /** threads the harness's kernels run on (1 on backends that do not use them) */
  threads: number;
  /** what the candidate is told about its device */
  device: DeviceInfo;
  /** the WebGPU adapter, as it describes itself (webgpu only) */
  adapter?: AdapterInfo;
  /** release the device so that the process can exit (webgpu) */
  close?: () => void;
}

export interface LoadOptions {
  /** accept a software WebGPU adapter (llvmpipe): local runs and tests; never `auto`, never official runs */
  allowSoftwareGpu?: boolean;
}

/** What tfjs-node's backend object exposes: the flag itself, or its native binding's. */
export interface NativeBackend {
  isUsingGpuDevice?: boolean | (() => boolean);
  binding?: { isUsingGpuDevice?: boolean | (() => boolean) };
}

function flag(owner: { isUsingGpuDevice?: boolean | (() => boolean) } | undefined): boolean | undefined {
  const f = owner?.isUsingGpuDevice;
  return typeof f === 'function' ? Boolean(f.call(owner)) : f;
}

/** Whether the native backend really runs on a GPU, and a note when the GPU package does not. */
export function nativeDevice(backend: NativeBackend, choice: 'node-gpu' | 'node'): { gpu: boolean; note: string } {
  const gpu = Boolean(flag(backend) ?? flag(backend.binding));
  const note = choice === 'node-gpu' && !gpu ? 'tfjs-node-gpu is running on the CPU: CUDA/cuDNN libraries were not found' : '';
  return { gpu, note };
}

type Loaded = Omit<LoadedBackend, 'kernels' | 'threads' | 'device'>;

/** tfjs's name of the native (tfjs-node) backend */
const NATIVE = 'tensorflow';

/**
 * Imports a native tfjs package (tfjs-node-gpu, tfjs-node). Such a package registers its kernels
 * for the 'tensorflow' backend before it loads its native addon: where the addon is missing the
 * import fails, yet the kernels stay in tfjs's global registry, and the next package tried
 * registers them again, each with a "The kernel '…' for backend 'tensorflow' is already
 * registered" warning (155 lines in the log of every child: train, eval, probe). A failed
 * import takes back the kernels it added, so nothing is registered twice; what a package that
 * loads registers is unchanged.
 */
export async function importNative(specifier: string): Promise<TF> {
  const core = await import('@tensorflow/tfjs-core');
  const before = new Set(core.getKernelsForBackend(NATIVE).map((k) => k.kernelName));
  try {
    return (await import(specifier)) as typeof tfc as TF;
  } catch (e) {
    for (const k of core.getKernelsForBackend(NATIVE)) if (!before.has(k.kernelName)) core.unregisterKernel(k.kernelName, NATIVE);
    throw e;
  }
}

async function load(choice: Concrete, opts: LoadOptions): Promise<Loaded> {
  const base = { choice, note: '', skipped: [] as string[] };
  if (choice === 'webgpu') {
    const w = await loadWebGpu();
    if (w.adapter.software && !opts.allowSoftwareGpu) {
      w.close();
      throw new Error(`the only WebGPU adapter is a software one (${w.adapter.description}); it is accepted only for local runs with --backend webgpu`);
    }
    return { ...base, tf: w.tf, backend: 'webgpu', gpu: !w.adapter.software, adapter: w.adapter, close: w.close, note: w.adapter.software ? 'software WebGPU adapter: no GPU did the work' : '' };
  }
  if (choice === 'node-gpu' || choice === 'node') {
    const pkg = choice === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    // TensorFlow's op determinism, read by libtensorflow when it loads: a replay (the same seeds and
    // progress schedule) must reproduce the checkpoint for the App to judge it by digest rather than
    // by score (docs/trust.md 2b). Not yet measured on a GPU in this project (bench/gpu-pack.sh does).
    process.env.TF_DETERMINISTIC_OPS ??= '1';
    const tf = await importNative(pkg);
    await tf.ready();
    return { ...base, tf, backend: tf.getBackend(), ...nativeDevice(tf.backend() as unknown as NativeBackend, choice) };
  }
  const tf = (await import('@tensorflow/tfjs-core')) as typeof tfc as TF;
  if (choice === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // the .wasm binaries live in the package's dist/, which tfjs cannot find by itself in Node
    wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  if (!(await tf.setBackend(choice))) throw new Error(`tfjs could not initialise the ${choice} backend`);
  await tf.ready();
  return { ...base, tf, backend: tf.getBackend(), gpu: false };
}

/** What a GPU that nvidia-smi does not list is taken to have, MiB: WebGPU tells no memory size
 * (an AMD or Intel card), and the host's RAM sized the default model's GPU batch at 64 sequences
 * there, past what an 8 GiB card holds. 8 GiB gives the smallest GPU batch (configFor). */
export const UNKNOWN_GPU_MEMORY_MB = 8192;

/** Memory the candidate may use, MiB: the GPU's when it runs on one, else the process's. */
export function deviceMemoryMb(hw: HardwareInfo, gpu: boolean, constrained = process.constrainedMemory?.() ?? 0): number {
  if (gpu) return hw.gpus[0]?.memoryMb ?? UNKNOWN_GPU_MEMORY_MB;
  const ram = totalmem();
  return Math.floor((constrained > 0 ? Math.min(constrained, ram) : ram) / 2 ** 20);
}

/** The backend, with every kernel's gradient and the harness's faster and fused kernels
 * registered, and `tf.fused` added to the namespace the candidate receives. */
export async function loadBackend(choice: BackendChoice, opts: LoadOptions = {}, hw: HardwareInfo = detectHardware()): Promise<LoadedBackend> {
  const got = await pickBackend(choice, opts);
  const { registerKernels } = await import('./kernels/index.js');
  const { fused } = await import('./kernels/fused.js');
  const { poolThreads } = await import('./kernels/threads.js');
  const kernels = await registerKernels(got.backend);
  const threads = got.backend === 'wasm' || got.backend === 'cpu' ? poolThreads() : 1;
  const tf = Object.freeze({ ...got.tf, fused }) as TF;
  const device: DeviceInfo = { backend: got.backend, gpu: got.gpu, hardwareClass: got.adapter ? webgpuClass(got.adapter) : hardwareClass(hw, got.gpu), memoryMb: deviceMemoryMb(hw, got.gpu), threads };
  return { ...got, tf, kernels, threads, device };
}

async function pickBackend(choice: BackendChoice, opts: LoadOptions): Promise<Loaded> {
  if (choice !== 'auto') return load(choice, opts);
  const skipped: string[] = [];
  for (const c of AUTO_ORDER) {
    try {
      const got = await load(c, { ...opts, allowSoftwareGpu: false });
      return { ...got, skipped };
    } catch (e) {
      skipped.push(`${c}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded (${skipped.join('; ')}); run \`npm ci\`.`);
}
