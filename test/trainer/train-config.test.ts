// The default train.ts sizes itself from the device the harness describes: the small model on a
// CPU (unchanged: its losses are pinned in test/model/fused.test.ts), a GPU-sized one when the
// device is a GPU. A unit test of the choice: no GPU is needed, and none is used.
import { describe, expect, it } from '@jest/globals';
import { loadBackend } from '../../trainer/backend.js';
import type { DeviceInfo } from '../../trainer/candidate-api.js';
import { configFor, createModel } from '../../trainer/train.js';

const CPU = { context: 64, batch: 32, layers: 2, width: 64, heads: 4, lr: 3e-3 };
const device = (d: Partial<DeviceInfo>): DeviceInfo => ({ backend: 'wasm', gpu: false, hardwareClass: 'cpu-amd-epyc', memoryMb: 24_000, threads: 2, ...d });

describe('the default train.ts picks its configuration from the device', () => {
  it.each([
    ['wasm', device({})],
    ['cpu', device({ backend: 'cpu' })],
    ['tfjs-node on a CPU', device({ backend: 'tensorflow', threads: 1 })],
    ['a software WebGPU adapter (no GPU did the work)', device({ backend: 'webgpu', hardwareClass: 'cpu-webgpu-software-llvmpipe', threads: 1 })],
  ])('the CPU configuration on %s, whatever the memory', (_, d) => {
    expect(configFor(d)).toEqual(CPU);
    expect(configFor({ ...d, memoryMb: 1_000_000 })).toEqual(CPU);
  });

  it('the CPU configuration when no device is given (tests and old callers)', () => {
    expect(configFor()).toEqual(CPU);
  });

  it.each([
    ['an H100 on CUDA', device({ backend: 'tensorflow', gpu: true, hardwareClass: 'gpu-h100-80gb', memoryMb: 81_559, threads: 1 }), 64],
    ['an H200 on WebGPU', device({ backend: 'webgpu', gpu: true, hardwareClass: 'gpu-h200-webgpu', memoryMb: 143_771, threads: 1 }), 64],
    ['a 24 GB card', device({ backend: 'tensorflow', gpu: true, hardwareClass: 'gpu-rtx-4090-24gb', memoryMb: 24_564, threads: 1 }), 32],
    ['an 8 GB card', device({ backend: 'webgpu', gpu: true, hardwareClass: 'gpu-rtx-3070-webgpu', memoryMb: 8_192, threads: 1 }), 16],
    ['a GPU of unknown small memory', device({ backend: 'webgpu', gpu: true, hardwareClass: 'gpu-unknown-webgpu', memoryMb: 0, threads: 1 }), 16],
  ])('a GPU-sized configuration on %s: deeper, wider, longer context, batch by memory', (_, d, batch) => {
    const c = configFor(d);
    expect(c).toEqual({ context: 256, batch, layers: 8, width: 512, heads: 8, lr: 1e-3 });
    expect(c.width % c.heads).toBe(0);
  });

  it('createModel builds what the configuration says (shapes and parameter count)', async () => {
    const { tf } = await loadBackend('cpu');
    const count = (m: ReturnType<typeof createModel>) => Object.values(m.variables()).reduce((s, v) => s + v.size, 0);
    const small = createModel(tf, 1, device({ backend: 'cpu' }));
    expect([small.contextLength, small.batchSize]).toEqual([64, 32]);
    expect(count(small)).toBe(135_168); // bench/peer/gpt.py's figure for the same model
    tf.dispose(Object.values(small.variables()));
    // shapes only: zeros for the 25M random draws, which take tens of seconds under jest
    const zerosTf = { ...tf, randomNormal: (shape: number[]) => tf.zeros(shape) } as unknown as typeof tf;
    const big = createModel(zerosTf, 1, device({ backend: 'cpu', gpu: true, memoryMb: 81_559 }));
    const vars = big.variables();
    expect([big.contextLength, big.batchSize]).toEqual([256, 64]);
    expect(vars.wte.shape).toEqual([256, 512]);
    expect(vars.wpe.shape).toEqual([256, 512]);
    expect(vars['h7.mlp.w2'].shape).toEqual([2048, 512]);
    expect(vars['h8.mlp.w2']).toBeUndefined();
    expect(count(big)).toBe(2 * 256 * 512 + 256 * 512 + 8 * 12 * 512 * 512); // ~25.4M
    tf.dispose(Object.values(vars));
  }, 30_000);
});
