// The portable GPU path: TensorFlow.js's WebGPU backend on Dawn for Node (the npm package
// `webgpu`, which ships dawn.node inside the package), so any vendor's GPU with a Vulkan, Metal
// or D3D12 driver can train without CUDA. Both packages are optional dependencies and only ever
// imported dynamically. The adapter is chosen and described here, by harness code, before any
// candidate code loads; a software adapter (Mesa's llvmpipe, SwiftShader) is reported as such
// so that official runs can refuse it.
import type { TF } from './candidate-api.js';

/** What the adapter says of itself (GPUAdapterInfo), plus whether it is a software rasterizer. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

/** Software adapters: no GPU does the work, so their speed says nothing about a GPU class. */
const SOFTWARE = /\b(llvmpipe|lavapipe|swiftshader|softpipe|warp|basic render driver)\b/i;

export function isSoftwareAdapter(info: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean }): boolean {
  if (info.isFallbackAdapter) return true;
  if ((info.architecture ?? '').toLowerCase() === 'software') return true;
  return SOFTWARE.test(`${info.description ?? ''} ${info.device ?? ''}`);
}

/** A human-readable device string for the result, e.g. "NVIDIA H200 (WebGPU: nvidia hopper)". */
export function describeAdapter(a: AdapterInfo): string {
  const name = a.description || a.device || a.vendor || 'unknown adapter';
  const arch = [a.vendor, a.architecture].filter(Boolean).join(' ');
  return `${name} (WebGPU${arch ? `: ${arch}` : ''}${a.software ? ', software adapter' : ''})`;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The hardware class of a WebGPU run. A WebGPU run of a GPU is not comparable with a CUDA run of
 * the same GPU (different kernels, different speed), so the class says `webgpu`; the GPU part
 * is the adapter's description with vendor words and driver versions dropped, falling back to
 * vendor and architecture. Software adapters get their own class, never a GPU's.
 */
export function webgpuClass(a: AdapterInfo): string {
  if (a.software) return `cpu-webgpu-software-${slug(a.description.split(':')[0] || a.device || 'adapter')}`;
  const words = (a.description || a.device)
    .replace(/\(.*?\)/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !/^(nvidia|amd|ati|intel|apple|geforce|radeon|graphics|corporation|inc\.?|\d+gb|hbm\d?e?|gddr\d\w*|\d+(?:\.\d+)+)$/i.test(w));
  const name = slug(words.join(' ')) || slug(`${a.vendor} ${a.architecture}`) || 'unknown';
  return `gpu-${name}-webgpu`;
}

// Optional packages: named through constants so that the type check does not need them installed.
const DAWN_PACKAGE = 'webgpu';
const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
/** the priority tfjs-backend-webgpu registers its backend with */
const WEBGPU_PRIORITY = 3;

export interface LoadedWebGpu {
  tf: TF;
  adapter: AdapterInfo;
  /** release the device so that the process can exit */
  close: () => void;
}

interface DawnModule {
  create: (flags: string[]) => { requestAdapter: (o?: object) => Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}
interface DawnAdapter {
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

/**
 * Loads Dawn, picks the high-performance adapter and initialises tfjs's webgpu backend on it.
 * Throws with a message naming what is missing (the optional packages, a Vulkan driver).
 */
export async function loadWebGpu(): Promise<LoadedWebGpu> {
  let dawn: DawnModule;
  try {
    dawn = (await import(DAWN_PACKAGE)) as unknown as DawnModule;
  } catch (e) {
    throw new Error(`the webgpu backend needs the optional packages \`webgpu\` and \`@tensorflow/tfjs-backend-webgpu\` (npm install webgpu @tensorflow/tfjs-backend-webgpu): ${(e as Error).message.split('\n')[0]}`);
  }
  // tfjs-backend-webgpu reads navigator.gpu and the GPU* constants from the global scope
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('Dawn found no WebGPU adapter: install a Vulkan driver (on Debian 12 a GPU vendor driver, or mesa-vulkan-drivers from bookworm-backports for a software adapter)');
  const info = adapter.info;
  const described: AdapterInfo = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info),
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  // `tf.fused` (the harness's fused ops) is added by loadBackend, as for every backend
  const tf = (await import('@tensorflow/tfjs-core')) as unknown as TF;
  try {
    await import(TFJS_WEBGPU_PACKAGE);
  } catch (e) {
    throw new Error(`the webgpu backend needs the optional package \`@tensorflow/tfjs-backend-webgpu\` (npm install @tensorflow/tfjs-backend-webgpu): ${(e as Error).message.split('\n')[0]}`);
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs could not initialise the webgpu backend on ${described.description || 'the adapter'}`);
  await tf.ready();
  const close = () => {
    // Dawn keeps the process alive while a device exists. tfjs keeps the backend it made first
    // and would hand this one, its device destroyed, to the next loadWebGpu in this process (a
    // kernel then aborts): so the backend is removed and its factory registered again.
    const engine = tf as unknown as {
      findBackend: (n: string) => { device?: { destroy?: () => void } } | null;
      findBackendFactory: (n: string) => (() => unknown) | null;
      removeBackend: (n: string) => void;
      registerBackend: (n: string, f: () => unknown, priority?: number) => boolean;
    };
    const device = engine.findBackend('webgpu')?.device;
    const factory = engine.findBackendFactory('webgpu');
    if (factory) {
      engine.removeBackend('webgpu'); // disposes the backend's buffers first
      engine.registerBackend('webgpu', factory, WEBGPU_PRIORITY);
    }
    device?.destroy?.();
  };
  return { tf, adapter: described, close };
}
