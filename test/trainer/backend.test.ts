import { describe, expect, it } from '@jest/globals';
import { loadBackend, nativeDevice } from '../../trainer/backend.js';

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

  it('falls back in order node-gpu, webgpu (a hardware adapter only), node, wasm and says why each was skipped', async () => {
    const b = await loadBackend('auto');
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
