// `npm run bench:trainer [-- --budget 30 --backends webgpu,node-gpu,wasm,cpu --candidate trainer/train.ts]`
// For each backend that loads here: a real harness run of the default model (train child,
// eval child on the default 200,000 dev bytes), printing tokens/s, achieved FLOP/s and MFU
// against the device's fp32 peak where it is known, the device, and where the wall time
// went. The overhead (setup + evaluation) does not grow with the budget, so its share of a
// default 300 s run is overhead / (300 + overhead); the target is under 10%.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, loadBackend, type BackendChoice } from './backend.js';
import { loadDataset } from './data/dataset.js';
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      budget: { type: 'string', default: '30' },
      backends: { type: 'string', default: 'node-gpu,webgpu,node,wasm,cpu' },
      candidate: { type: 'string', default: join(REPO_DIR, 'trainer/train.ts') },
      'eval-bytes': { type: 'string', default: '200000' },
      'export-data': { type: 'string' },
    },
  });
  if (values['export-data']) {
    // the same bytes for the PyTorch peer (bench/peer/gpt.py --data train.bin --val val.bin)
    const ds = await loadDataset('brown', { cacheDir: join(REPO_DIR, '.cache/data') });
    mkdirSync(values['export-data'], { recursive: true });
    writeFileSync(join(values['export-data'], 'train.bin'), ds.train);
    writeFileSync(join(values['export-data'], 'val.bin'), ds.val);
    process.stderr.write(`wrote ${ds.train.length} train and ${ds.val.length} val bytes of ${ds.name} to ${values['export-data']}\n`);
    return;
  }
  const budget = Number(values.budget);
  const rows: string[][] = [['backend', 'device', 'tokens/s', 'FLOP/s', 'MFU (fp32)', 'steps', 'train s', 'setup+eval s', 'train share (this run)', `train share (${DEFAULT_RUN_S} s run)`, 'val_bpb']];
  for (const b of values.backends.split(',') as Exclude<BackendChoice, 'auto'>[]) {
    if (!BACKEND_CHOICES.includes(b)) throw new Error(`--backends: unknown backend ${b}`);
    const why = await available(b);
    if (why) {
      process.stderr.write(`${b}: not available (${why})\n`);
      continue;
    }
    process.stderr.write(`${b}: ${budget} s run...\n`);
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
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
  process.stdout.write('FLOP/s counts 6 x params per trained token (the matmuls forward and backward; attention scores not counted); MFU is against the fp32 peak, as tfjs trains in fp32.\n');
}

main().catch((e) => {
  process.stderr.write(`bench:trainer: ${(e as Error).message}\n`);
  process.exit(2);
});
