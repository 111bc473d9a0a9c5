// The GPU code path without a GPU: tfjs's WebGPU backend on Dawn, on Mesa's software Vulkan
// (lavapipe, from Debian's bookworm-backports: `.ci/run` installs it). The default model's losses
// must match the cpu backend's, and the harness's probes must hold on webgpu as on wasm.
// Outside CI the suite is skipped (with a note) where no Vulkan driver is installed; in CI it
// must run.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deviceMemoryMb, loadBackend } from '../../trainer/backend.js';
import type { TF } from '../../trainer/candidate-api.js';
import { checkpointBlob } from '../../trainer/checkpoint.js';
import { sampleBatch } from '../../trainer/data/batches.js';
import { mulberry32 } from '../../trainer/data/rng.js';
import { loadBrown } from '../../trainer/data/brown.js';
import { makeReporter } from '../../trainer/progress.js';
import { runExperiment } from '../../trainer/supervisor.js';
import { configFor, createModel } from '../../trainer/train.js';
import { describeAdapter, isSoftwareAdapter, webgpuClass } from '../../trainer/webgpu.js';

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const hasVulkan = ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
const run = hasVulkan || process.env.CI ? describe : describe.skip;
if (!hasVulkan && !process.env.CI) console.warn('webgpu tests skipped: no Vulkan driver (install mesa-vulkan-drivers from bookworm-backports, as .ci/run does)');

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

function batch(B: number, T: number): [Int32Array, Int32Array] {
  const text = Buffer.from('The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise. ');
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      x[b * T + t] = text[(b * 7 + t) % text.length];
      y[b * T + t] = text[(b * 7 + t + 1) % text.length];
    }
  return [x, y];
}

async function losses(tf: TF, steps: number, B = 4): Promise<number[]> {
  const m = createModel(tf, 11);
  const T = m.contextLength;
  const [xs, ys] = batch(B, T);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = tf.tensor2d(xs, [B, T], 'int32');
    const y = tf.tensor2d(ys, [B, T], 'int32');
    const loss = m.trainStep(x, y, i / steps);
    out.push((await loss.data())[0]);
    tf.dispose([x, y, loss]);
  }
  tf.dispose(Object.values(m.variables()));
  return out;
}

describe('WebGPU adapters', () => {
  it('tells software adapters from GPUs, and gives each its own class', () => {
    const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' };
    expect(isSoftwareAdapter(lavapipe)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    const h200 = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' };
    expect(isSoftwareAdapter(h200)).toBe(false);
    expect(webgpuClass({ ...h200, software: false })).toBe('gpu-h200-webgpu');
    expect(webgpuClass({ vendor: 'amd', architecture: 'rdna-3', device: '', description: 'AMD Radeon RX 7900 XTX (RADV NAVI31)', software: false })).toBe('gpu-rx-7900-xtx-webgpu');
    expect(webgpuClass({ ...lavapipe, software: true })).toBe('cpu-webgpu-software-llvmpipe');
    expect(describeAdapter({ ...h200, software: false })).toBe('NVIDIA H200 (WebGPU: nvidia hopper)');
  });

  it('sizes the GPU model for 8 GiB where no driver tells the memory (WebGPU on AMD or Intel), not for the host RAM', () => {
    const amdHost = { gpus: [], cpuModel: 'AMD Ryzen 9 7950X', cpuCount: 32 };
    expect(deviceMemoryMb(amdHost, true, 64 * 2 ** 30)).toBe(8192); // was the host RAM: on a 64 GiB host, batch 64, past an 8 GiB card
    expect(configFor({ backend: 'webgpu', gpu: true, hardwareClass: 'gpu-rx-7600-webgpu', memoryMb: deviceMemoryMb(amdHost, true), threads: 1 }).batch).toBe(16);
    const h100 = { gpus: [{ name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559, driver: '580.159.04' }], cpuModel: 'x', cpuCount: 16 };
    expect(deviceMemoryMb(h100, true)).toBe(81559);
    expect(deviceMemoryMb(amdHost, false, 3 * 2 ** 30)).toBe(3072); // a CPU run: the process's limit
  });
});

run('the webgpu backend (software Vulkan here)', () => {
  it('trains the default model with the same losses as the cpu backend', async () => {
    const cpu = await loadBackend('cpu');
    const want = await losses(cpu.tf, 3);
    const gpu = await loadBackend('webgpu', { allowSoftwareGpu: true });
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.adapter?.software).toBe(true);
    expect(gpu.gpu).toBe(false); // a software adapter is no GPU
    const got = await losses(gpu.tf, 3);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]) / want[i]).toBeLessThan(1e-4);
    expect(got[2]).toBeLessThan(got[0]); // it learns
    gpu.close?.();
  }, 300_000);

  it('loads again in the same process after close (bench:trainer profiles, then runs, each backend)', async () => {
    // tfjs keeps the backend it made first; after close() destroyed its device, setBackend handed
    // back that dead backend and the next kernel aborted (DOMException AbortError, or Dawn's
    // pthread assertion): `npm run bench:trainer -- --backends webgpu` never got past its profile.
    for (let round = 0; round < 2; round++) {
      const gpu = await loadBackend('webgpu', { allowSoftwareGpu: true });
      const c = gpu.tf.matMul(gpu.tf.ones([8, 8]), gpu.tf.ones([8, 8]));
      expect((await c.data())[0]).toBe(8);
      gpu.tf.dispose(c);
      gpu.close?.();
    }
  }, 120_000);

  it('trains the same bits twice from the same seeds: a replay on one adapter reproduces the checkpoint', async () => {
    // tfjs's split-K matmul and segment sum add floats with atomics in the order threads arrive:
    // two trainings gave two checkpoints before the harness replaced them
    // (trainer/kernels/webgpu-determinism.ts); a replay could only be judged by score.
    const gpu = await loadBackend('webgpu', { allowSoftwareGpu: true });
    const { tf } = gpu;
    const data = loadBrown().train;
    const train = async () => {
      const model = createModel(tf, 7, gpu.device);
      const rng = mulberry32(7);
      for (let i = 0; i < 2; i++) {
        const b = sampleBatch(data, model.batchSize, model.contextLength, rng);
        const x = tf.tensor2d(b.x, [model.batchSize, model.contextLength], 'int32');
        const y = tf.tensor2d(b.y, [model.batchSize, model.contextLength], 'int32');
        const loss = model.trainStep(x, y, i / 2);
        await loss.data();
        tf.dispose([x, y, loss]);
      }
      const { blob } = await checkpointBlob(model.variables());
      tf.dispose(Object.values(model.variables()));
      return createHash('sha256').update(blob).digest('hex');
    };
    const first = await train();
    expect(await train()).toBe(first);
    gpu.close?.();
  }, 300_000);

  it("the harness's segment sum (embedding gradient) sums as tfjs's does and drops ids out of range", async () => {
    const gpu = await loadBackend('webgpu', { allowSoftwareGpu: true });
    expect(gpu.kernels).toContain('UnsortedSegmentSum@webgpu');
    const { tf } = gpu;
    const rows = 300;
    const inner = [3, 5];
    const n = 7;
    const rng = mulberry32(3);
    const xs = Float32Array.from({ length: rows * 15 }, () => rng() * 2 - 1);
    const ids = Int32Array.from({ length: rows }, (_, i) => (i % 50 === 0 ? -1 : i % 61 === 0 ? n : Math.floor(rng() * n)));
    const want = new Float64Array(n * 15);
    for (let r = 0; r < rows; r++) if (ids[r] >= 0 && ids[r] < n) for (let i = 0; i < 15; i++) want[ids[r] * 15 + i] += xs[r * 15 + i];
    const out = tf.unsortedSegmentSum(tf.tensor(xs, [rows, ...inner]), tf.tensor1d(ids, 'int32'), n);
    expect(out.shape).toEqual([n, ...inner]);
    const got = await out.data();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
    gpu.close?.();
  }, 120_000);

  it('refuses a software adapter unless the run allows it (auto never picks one)', async () => {
    await expect(loadBackend('webgpu')).rejects.toThrow(/software one.*local runs/);
  }, 120_000);

  const harness = (fixture: string) =>
    runExperiment({
      budgetSeconds: 3,
      backend: 'webgpu',
      seed: 7,
      evalSeed: null,
      evalBytes: 1024,
      data: 'brown',
      dataset: loadBrown(),
      cacheDir: mkdtempSync(join(tmpdir(), 'webgpu-cache-')),
      candidate: join(fixtures, fixture),
      outDir: mkdtempSync(join(tmpdir(), 'webgpu-run-')),
      warmupSteps: 0,
      memoryMb: null,
      isolation: 'none',
      image: null,
      graceSeconds: 3,
      reporter: makeReporter({ tty: false, quiet: true }),
    });

  it('the harness scores a candidate on webgpu and names the adapter and its class', async () => {
    const r = await harness('tiny.ts');
    expect(r.failure).toBeNull();
    expect(r.backend).toBe('webgpu');
    expect(r.device).toMatch(/WebGPU.*software adapter/);
    expect(r.hardware_class).toMatch(/^cpu-webgpu-software-/);
    // a software adapter is timed with the CPU's calibration workload (the GPU's took 11 s on llvmpipe, in each of three processes)
    expect(r.calibration?.workload).toBe('matmul-256x256x256x10@webgpu');
  }, 300_000);

  it.each([
    ['noncausal.ts', 'non_causal'],
    ['nan.ts', 'nan'],
    ['ignores-stop.ts', 'timeout'],
  ])('the probes hold on webgpu: %s fails as %s', async (fixture, kind) => {
    const r = await harness(fixture);
    expect(r.status).toBe('failed');
    expect(r.failure?.kind).toBe(kind);
  }, 300_000);
});
