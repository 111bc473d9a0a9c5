// `npm run bench:trainer [-- --budget 30 --backends webgpu,node-gpu,wasm,cpu --candidate trainer/train.ts --steps 10 --no-runs --peer python3]`
// For each backend that loads here: first a step profile of the candidate in this process
// (kernel dispatches per step, time per op class, tokens/s of bare steps, the kernels'
// thread count), then a real harness run (train child, eval child on the default 200,000
// dev bytes), printing tokens/s, achieved FLOP/s and MFU against the device's fp32 peak where
// it is known, the device, and where the wall time went. The overhead (setup + evaluation)
// does not grow with the budget, so its share of a
// default 300 s run is overhead / (300 + overhead); the target is under 10%.
// `--peer <python>` runs the PyTorch peer (bench/peer/gpt.py) of the same model right after each
// backend's run, for the same budget on the same bytes, and prints the ratio of tokens/s (the
// model's shape from the candidate's configFor(device) when it exports one). Each row notes
// the 1-minute load average when it started: on a shared machine only same-sitting ratios mean much.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BACKEND_CHOICES, loadBackend, type BackendChoice } from './backend.js';
import { loadDataset } from './data/dataset.js';
import type { CreateModel, DeviceInfo } from './candidate-api.js';
import { randomBatch } from './data/batches.js';
import { mulberry32 } from './data/rng.js';
import { profileSteps } from './kernels/profile.js';
import { makeReporter } from './progress.js';
import { REPO_DIR, runExperiment } from './supervisor.js';
import { achievedFlops, peakFlops } from './flops.js';

const DEFAULT_RUN_S = 300;

async function available(choice: Exclude<BackendChoice, 'auto'>): Promise<string | null> {
  try {
    const b = await loadBackend(choice, { allowSoftwareGpu: true });
    b.close?.();
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/** Dispatches per step and time per op class of the candidate's trainStep on one backend. */
async function profile(choice: Exclude<BackendChoice, 'auto'>, candidate: string, steps: number): Promise<void> {
  const be = await loadBackend(choice, { allowSoftwareGpu: true });
  const { createModel } = (await import(pathToFileURL(candidate).href)) as { createModel: CreateModel };
  const model = createModel(be.tf, 1337, be.device);
  const rng = mulberry32(1);
  const step = async () => {
    const b = randomBatch(model.batchSize, model.contextLength, rng);
    const x = be.tf.tensor2d(b.x, [model.batchSize, model.contextLength], 'int32');
    const y = be.tf.tensor2d(b.y, [model.batchSize, model.contextLength], 'int32');
    const loss = model.trainStep(x, y, 0.5);
    await loss.data();
    be.tf.dispose([x, y, loss]);
  };
  for (let i = 0; i < 3; i++) await step(); // warm-up
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step();
  const bareMs = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps; // every thread of the process: on a shared machine, steadier than wall time
  const p = await profileSteps(be.backend, steps, step);
  const tokens = model.batchSize * model.contextLength;
  const out = [
    `${choice} (${be.backend}), kernels on ${be.threads} thread(s): ${bareMs.toFixed(1)} ms/step = ${Math.round((1000 * tokens) / bareMs)} tokens/s (bare steps, B=${model.batchSize} T=${model.contextLength}; load ${loadavg()[0].toFixed(1)}); ${cpuMs.toFixed(1)} ms of CPU per step (all threads)`,
    `  dispatches per step: ${Math.round(p.dispatches)}; with timers: ${p.stepMs.toFixed(1)} ms/step, ${p.kernelMs.toFixed(1)} in kernels, ${(p.stepMs - p.kernelMs).toFixed(1)} outside (tape, JS)`,
    ...p.classes.map((c) => `  ${c.name.padEnd(40)} ${c.ms.toFixed(2).padStart(7)} ms ${((100 * c.ms) / p.stepMs).toFixed(1).padStart(5)}% ${c.calls.toFixed(0).padStart(4)}x  ${c.kernels}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The harness's Brown split as train.bin and val.bin, for the PyTorch peer (bench/peer/gpt.py --data train.bin --val val.bin). */
async function exportData(dir: string): Promise<void> {
  const ds = await loadDataset('brown', { cacheDir: join(REPO_DIR, '.cache/data') });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.bin'), ds.train);
  writeFileSync(join(dir, 'val.bin'), ds.val);
  process.stderr.write(`wrote ${ds.train.length} train and ${ds.val.length} val bytes of ${ds.name} to ${dir}\n`);
}

interface PeerResult {
  torch: string;
  device: string;
  steps: number;
  train_seconds: number;
  tokens_per_second: number;
  val_bpb: number;
}

/** The PyTorch peer's arguments for the candidate's model on a device: from its configFor when it exports one. */
async function peerShape(candidate: string, device: DeviceInfo): Promise<{ args: string[]; note: string }> {
  const mod = (await import(pathToFileURL(candidate).href)) as { configFor?: (d: DeviceInfo) => Record<string, number> };
  const c = mod.configFor?.(device);
  if (!c) return { args: [], note: 'the candidate exports no configFor: the peer runs its default shape (the default CPU model)' };
  const keys = ['context', 'batch', 'layers', 'width', 'heads', 'lr'] as const;
  return { args: keys.flatMap((k) => [`--${k}`, String(c[k])]), note: keys.map((k) => `${k} ${c[k]}`).join(', ') };
}

/** Runs bench/peer/gpt.py; OMP_WAIT_POLICY=passive: with OpenMP's default spinning, two
 * threads on a shared 2-core machine ran ~10x slower (3,614 against 32,674 tokens/s). */
function runPeer(python: string, dataDir: string, budget: number, threads: number, gpu: boolean, shape: string[]): PeerResult {
  const args = [join(REPO_DIR, 'bench/peer/gpt.py'), '--data', join(dataDir, 'train.bin'), '--val', join(dataDir, 'val.bin'), '--budget', String(budget), ...shape];
  if (!gpu) args.push('--device', 'cpu', '--threads', String(threads));
  const out = execFileSync(python, args, { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' }, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as PeerResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      budget: { type: 'string', default: '30' },
      backends: { type: 'string', default: 'node-gpu,webgpu,node,wasm,cpu' },
      candidate: { type: 'string', default: join(REPO_DIR, 'trainer/train.ts') },
      'eval-bytes': { type: 'string', default: '200000' },
      'export-data': { type: 'string' },
      steps: { type: 'string', default: '10' },
      'no-runs': { type: 'boolean', default: false },
      peer: { type: 'string' },
    },
  });
  if (values['export-data']) {
    await exportData(values['export-data']);
    return;
  }
  for (const b of values.backends.split(',') as Exclude<BackendChoice, 'auto'>[]) {
    if (!BACKEND_CHOICES.includes(b)) throw new Error(`--backends: unknown backend ${b}`);
    const why = await available(b);
    if (why) continue;
    await profile(b, resolve(values.candidate), Number(values.steps));
  }
  if (values['no-runs']) return;
  const budget = Number(values.budget);
  const peerData = values.peer ? mkdtempSync(join(tmpdir(), 'bench-peer-')) : null;
  if (peerData) await exportData(peerData);
  const ratios: string[] = [];
  const load = () => loadavg()[0].toFixed(1);
  const rows: string[][] = [['backend', 'load', 'device', 'tokens/s', 'FLOP/s', 'MFU (fp32)', 'steps', 'train s', 'setup+eval s', 'train share (this run)', `train share (${DEFAULT_RUN_S} s run)`, 'val_bpb']];
  for (const b of values.backends.split(',') as Exclude<BackendChoice, 'auto'>[]) {
    if (!BACKEND_CHOICES.includes(b)) throw new Error(`--backends: unknown backend ${b}`);
    const why = await available(b);
    if (why) {
      process.stderr.write(`${b}: not available (${why})\n`);
      continue;
    }
    process.stderr.write(`${b}: ${budget} s run...\n`);
    const loadBefore = load();
    const r = await runExperiment({
      budgetSeconds: budget,
      backend: b,
      seed: 1337,
      evalSeed: null,
      evalBytes: Number(values['eval-bytes']),
      data: 'brown',
      cacheDir: join(REPO_DIR, '.cache/data'),
      candidate: resolve(values.candidate),
      outDir: mkdtempSync(join(tmpdir(), `bench-${b}-`)),
      warmupSteps: 0,
      memoryMb: null,
      isolation: 'none',
      image: null,
      reporter: makeReporter({ tty: false, quiet: true }),
    });
    const overhead = r.total_seconds - r.train_seconds;
    const flops = achievedFlops(r.params, r.tokens_per_second);
    const peak = peakFlops(r.device);
    rows.push([
      `${b} (${r.backend})`,
      loadBefore,
      r.device,
      r.status === 'ok' ? Math.round(r.tokens_per_second).toString() : `failed: ${r.failure?.kind}`,
      `${(flops / 1e9).toFixed(2)} G`,
      peak ? `${((100 * flops) / peak.flops).toFixed(2)}% of ${peak.name}` : 'peak unknown',
      String(r.steps),
      r.train_seconds.toFixed(1),
      overhead.toFixed(1),
      `${((100 * r.train_seconds) / r.total_seconds).toFixed(1)}%`,
      `${((100 * DEFAULT_RUN_S) / (DEFAULT_RUN_S + overhead)).toFixed(1)}%`,
      r.val_bpb === null ? '-' : r.val_bpb.toFixed(4),
    ]);
    if (values.peer && peerData && r.status === 'ok') {
      const be = await loadBackend(b, { allowSoftwareGpu: true });
      be.close?.();
      const shape = await peerShape(resolve(values.candidate), be.device);
      process.stderr.write(`${b}: the PyTorch peer, ${budget} s (${shape.note})...\n`);
      const loadPeer = load();
      const peer = runPeer(values.peer, peerData, budget, r.threads ?? 1, be.device.gpu, shape.args);
      const peerFlops = achievedFlops(r.params, peer.tokens_per_second);
      rows.push([
        `PyTorch ${peer.torch} (peer)`,
        loadPeer,
        peer.device,
        String(Math.round(peer.tokens_per_second)),
        `${(peerFlops / 1e9).toFixed(2)} G`,
        peak ? `${((100 * peerFlops) / peak.flops).toFixed(2)}% of ${peak.name}` : 'peak unknown',
        String(peer.steps),
        peer.train_seconds.toFixed(1),
        '-',
        '-',
        '-',
        peer.val_bpb.toFixed(4),
      ]);
      ratios.push(`${b}: ${(r.tokens_per_second / peer.tokens_per_second).toFixed(2)}x PyTorch's tokens/s (${Math.round(r.tokens_per_second)} / ${Math.round(peer.tokens_per_second)}), val_bpb ${r.val_bpb?.toFixed(4) ?? '-'} against ${peer.val_bpb.toFixed(4)}, loads ${loadBefore} and ${loadPeer}`);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  for (const line of ratios) process.stdout.write(`${line}\n`);
  process.stdout.write('FLOP/s counts 6 x params per trained token (the matmuls forward and backward; attention scores not counted); MFU is against the fp32 peak, as tfjs trains in fp32.\n');
}

main().catch((e) => {
  process.stderr.write(`bench:trainer: ${(e as Error).message}\n`);
  process.exit(2);
});
