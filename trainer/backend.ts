// Loads the tfjs backend inside a child process. Order for `auto`: tfjs-node-gpu, webgpu (a
// hardware adapter only), tfjs-node, wasm, cpu. The native and WebGPU packages are optional
// dependencies that may be absent, so they are only ever imported dynamically. The result says which backend really ran and whether a GPU
// did: tfjs-node-gpu falls back to the CPU silently when CUDA libraries are missing.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TF } from './candidate-api.js';
import { loadWebGpu, type AdapterInfo } from './webgpu.js';

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
  /** kernels the harness replaced with its own, as "Kernel@backend" */
  kernels: string[];
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

async function load(choice: Concrete, opts: LoadOptions): Promise<Omit<LoadedBackend, 'kernels'>> {
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
    const tf = (await import(pkg)) as TF;
    await tf.ready();
    return { ...base, tf, backend: tf.getBackend(), ...nativeDevice(tf.backend() as unknown as NativeBackend, choice) };
  }
  const tf = (await import('@tensorflow/tfjs-core')) as TF;
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

/** The backend, with every kernel's gradient and the harness's faster kernels registered. */
export async function loadBackend(choice: BackendChoice, opts: LoadOptions = {}): Promise<LoadedBackend> {
  const got = await pickBackend(choice, opts);
  const { registerKernels } = await import('./kernels/index.js');
  return { ...got, kernels: await registerKernels(got.backend) };
}

async function pickBackend(choice: BackendChoice, opts: LoadOptions): Promise<Omit<LoadedBackend, 'kernels'>> {
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
