import { describe, expect, it, jest } from '@jest/globals';
import { getKernel } from '@tensorflow/tfjs-core';
import { fileURLToPath } from 'node:url';
import { importNative, loadBackend, nativeDevice } from '../../trainer/backend.js';

const ALREADY = /is already registered/;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/native-fails/${name}.ts`, import.meta.url));

/** The console.warn lines `run` makes (tfjs warns through console.warn). */
async function warnings(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const spy = jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void seen.push(a.map(String).join(' ')));
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

describe('backend', () => {
  it('reports tfjs-node-gpu running on the CPU (CUDA libraries missing) instead of trusting the package name', () => {
    expect(nativeDevice({ isUsingGpuDevice: false }, 'node-gpu')).toEqual({
      gpu: false,
      note: 'tfjs-node-gpu is running on the CPU: CUDA/cuDNN libraries were not found',
    });
    expect(nativeDevice({ binding: { isUsingGpuDevice: () => true } }, 'node-gpu')).toEqual({ gpu: true, note: '' });
    expect(nativeDevice({ isUsingGpuDevice: true }, 'node-gpu')).toEqual({ gpu: true, note: '' });
    expect(nativeDevice({ binding: { isUsingGpuDevice: () => false } }, 'node')).toEqual({ gpu: false, note: '' });
  });

  it('takes back the kernels of a native package that failed to load, so the next one registers none twice', async () => {
    const seen = await warnings(async () => {
      // tfjs-node-gpu, then tfjs-node, both without their addon: each registers, then throws
      await expect(importNative(fixture('gpu'))).rejects.toThrow(/native addon/);
      await expect(importNative(fixture('cpu'))).rejects.toThrow(/native addon/);
    });
    expect(seen.filter((l) => ALREADY.test(l))).toEqual([]);
    expect(getKernel('FixtureNativeAdd', 'tensorflow')).toBeUndefined();
  });

  it('falls back in order node-gpu, webgpu (a hardware adapter only), node, wasm and says why each was skipped', async () => {
    let b!: Awaited<ReturnType<typeof loadBackend>>;
    const seen = await warnings(async () => {
      b = await loadBackend('auto');
    });
    // where the native packages installed without their addon, both were tried: no kernel twice
    expect(seen.filter((l) => ALREADY.test(l))).toEqual([]);
    // the native packages are optional dependencies; where they did not install, auto lands on wasm
    if (b.backend === 'wasm') {
      expect(b.skipped.map((s) => s.split(':')[0])).toEqual(['node-gpu', 'webgpu', 'node']);
      expect(b.gpu).toBe(false);
    } else {
      expect(b.backend).toBe('tensorflow');
    }
    const x = b.tf.matMul(b.tf.ones([2, 3]), b.tf.ones([3, 2]));
    expect(Array.from(await x.data())).toEqual([3, 3, 3, 3]);
  });
});
