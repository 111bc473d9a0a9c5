// A fused kernel is harness code: a candidate must not register, replace or change kernels
// or their gradients. The guard snapshots the registries after the harness registers its
// kernels; the train and eval children check it after the candidate loads and after every
// step (as they check the clock).
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import * as tfc from '@tensorflow/tfjs-core';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBackend } from '../../trainer/backend.js';
import { loadBrown } from '../../trainer/data/brown.js';
import { kernelsTampered, snapshotKernels, type KernelSnapshot } from '../../trainer/kernels/guard.js';
import { makeReporter } from '../../trainer/progress.js';
import { runExperiment } from '../../trainer/supervisor.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));

let snap: KernelSnapshot;
const undo: (() => void)[] = [];
beforeAll(async () => {
  await loadBackend('wasm');
});

describe('the kernel guard, in process', () => {
  afterEach(() => {
    while (undo.length) undo.pop()!();
  });

  it('sees nothing when nothing changed', () => {
    snap = snapshotKernels();
    expect(kernelsTampered(snap)).toBeNull();
  });

  it('sees a new kernel registered', () => {
    snap = snapshotKernels();
    tfc.registerKernel({ kernelName: 'Evil', backendName: 'wasm', kernelFunc: () => ({}) as never });
    undo.push(() => tfc.unregisterKernel('Evil', 'wasm'));
    expect(kernelsTampered(snap)).toMatch(/kernel Evil@wasm/);
  });

  it('sees a kernel replaced (unregistered, then registered again)', () => {
    snap = snapshotKernels();
    const original = tfc.getKernel(tfc.BatchMatMul, 'wasm');
    tfc.unregisterKernel(tfc.BatchMatMul, 'wasm');
    tfc.registerKernel({ ...original });
    undo.push(() => {
      tfc.unregisterKernel(tfc.BatchMatMul, 'wasm');
      tfc.registerKernel(original);
    });
    expect(kernelsTampered(snap)).toMatch(/kernel BatchMatMul@wasm/);
  });

  it('sees a kernel function swapped inside its registered config', () => {
    snap = snapshotKernels();
    const config = tfc.getKernel(tfc.Softmax, 'wasm') as { kernelFunc: tfc.KernelFunc };
    const original = config.kernelFunc;
    config.kernelFunc = (args) => original(args);
    undo.push(() => (config.kernelFunc = original));
    expect(kernelsTampered(snap)).toMatch(/kernel Softmax@wasm/);
  });

  it('sees a kernel removed', () => {
    snap = snapshotKernels();
    const original = tfc.getKernel(tfc.Relu, 'wasm');
    tfc.unregisterKernel(tfc.Relu, 'wasm');
    undo.push(() => tfc.registerKernel(original));
    expect(kernelsTampered(snap)).toMatch(/kernel Relu@wasm/);
  });

  it('sees a gradient replaced or changed in place', () => {
    snap = snapshotKernels();
    const grad = tfc.getGradient(tfc.Relu) as { gradFunc: tfc.GradFunc };
    const original = grad.gradFunc;
    grad.gradFunc = (dy, saved, attrs) => original(dy, saved, attrs);
    undo.push(() => (grad.gradFunc = original));
    expect(kernelsTampered(snap)).toMatch(/gradient of Relu/);
  });

  it('sees the engine dispatch or the active backend replaced', () => {
    snap = snapshotKernels();
    const engine = tfc.engine() as unknown as { runKernel: unknown };
    engine.runKernel = (...a: unknown[]) => a;
    undo.push(() => delete (engine as Partial<typeof engine>).runKernel);
    expect(kernelsTampered(snap)).toMatch(/engine's runKernel/);
  });

  it("sees the engine's clone of saved tensors replaced (the harness's dispatch-free one)", () => {
    snap = snapshotKernels();
    const engine = tfc.engine() as unknown as { clone: unknown };
    const harness = engine.clone;
    engine.clone = (x: unknown) => x; // would hand the backward pass the caller's own tensors
    undo.push(() => void (engine.clone = harness));
    expect(kernelsTampered(snap)).toMatch(/engine's clone/);
  });
});

/** A throw-away copy of the checkout (the harness-change check must see an untouched trainer/). */
function copyCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kernel-guard-checkout-'));
  cpSync(join(repo, 'trainer'), join(dir, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(repo, f), join(dir, f));
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('the harness rejects a candidate that touches kernels', () => {
  const checkout = copyCheckout();
  const run = async (fixture: string) => {
    const outDir = mkdtempSync(join(tmpdir(), 'kernel-guard-'));
    return runExperiment({
      budgetSeconds: 1.5,
      backend: 'wasm',
      seed: 7,
      evalSeed: null,
      evalBytes: 4096,
      data: 'brown',
      dataset: loadBrown(),
      cacheDir: join(outDir, 'cache'),
      candidate: join(fixtures, fixture),
      outDir,
      warmupSteps: 0,
      memoryMb: null,
      isolation: 'none',
      image: null,
      graceSeconds: 2,
      repoDir: checkout,
      reporter: makeReporter({ tty: false, quiet: true }),
    });
  };

  it('fails one that replaces a kernel during training', async () => {
    const r = await run('replaces-kernel.ts');
    expect(r.status).toBe('failed');
    expect(r.failure?.kind).toBe('tamper');
    expect(r.failure?.message).toMatch(/kernel BatchMatMul@wasm/);
  });

  it('fails one that changes a kernel while it loads', async () => {
    const r = await run('mutates-kernel.ts');
    expect(r.status).toBe('failed');
    expect(r.failure?.kind).toBe('tamper');
    expect(r.failure?.message).toMatch(/kernel Softmax@wasm/);
  });
});
