// `npm run bench:trainer [-- --budget 30 --backends wasm,cpu --candidate trainer/train.ts]`
// For each backend that loads here: a real harness run of the default model (train child,
// eval child on the default 200,000 dev bytes), printing tokens/s and where the wall time
// went. The overhead (setup + evaluation) does not grow with the budget, so its share of a
// default 300 s run is overhead / (300 + overhead); the target is under 10%.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, loadBackend, type BackendChoice } from './backend.js';
import { makeReporter } from './progress.js';
import { REPO_DIR, runExperiment } from './supervisor.js';

const DEFAULT_RUN_S = 300;

async function available(choice: Exclude<BackendChoice, 'auto'>): Promise<string | null> {
  try {
    await loadBackend(choice);
    return null;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      budget: { type: 'string', default: '30' },
      backends: { type: 'string', default: 'node-gpu,node,wasm,cpu' },
      candidate: { type: 'string', default: join(REPO_DIR, 'trainer/train.ts') },
      'eval-bytes': { type: 'string', default: '200000' },
    },
  });
  const budget = Number(values.budget);
  const rows: string[][] = [['backend', 'device', 'tokens/s', 'steps', 'train s', 'setup+eval s', 'train share (this run)', `train share (${DEFAULT_RUN_S} s run)`, 'val_bpb']];
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
    rows.push([
      `${b} (${r.backend})`,
      r.device,
      r.status === 'ok' ? Math.round(r.tokens_per_second).toString() : `failed: ${r.failure?.kind}`,
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
}

main().catch((e) => {
  process.stderr.write(`bench:trainer: ${(e as Error).message}\n`);
  process.exit(2);
});
