// `npm run experiment -- [options]`: train a candidate for a fixed budget and score it.
// Exit 0: ok; 1: the candidate failed (result.json says why); 2: bad arguments or harness error.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, type BackendChoice } from './backend.js';
import { DATASETS, type DatasetName } from './data/dataset.js';
import { makeReporter } from './progress.js';
import type { ExperimentResult } from './result.js';
import { DEFAULT_CANDIDATE } from './runtime.js';
import { REPO_DIR, runExperiment, type ExperimentOptions } from './supervisor.js';

export const USAGE = `usage: npm run experiment -- [options]
  --budget <seconds>        training time (default 300)
  --backend <b>             auto | node-gpu | webgpu | node | wasm | cpu (default auto)
  --seed <int>              model and batch seed (default 1337)
  --eval-seed <int>         official runs: held-out windows drawn by this seed (default: dev split)
  --eval-bytes <n>          bytes to evaluate (default 200000)
  --data <d>                brown | fineweb (default brown)
  --cache-dir <dir>         where remote shards are cached (default .cache/data)
  --candidate <file>        the training file (default trainer/train.ts)
  --out <dir>               writes result.json and train.log (default runs/<timestamp>)
  --json                    print only the result JSON on stdout
  --warmup <steps>          untimed warm-up steps on random tokens (default 0, at most 20)
  --memory-mb <n>           memory cap for each child process
  --isolation <i>           none | docker (default none)
  --image <ref>             the trainer image, for --isolation docker`;

export class UsageError extends Error {}

function int(name: string, v: string | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer of at least ${min}, got "${v}".`);
  return Number(v);
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}".`);
  return v as T;
}

export function parseCli(argv: string[], now = new Date()): { options: Omit<ExperimentOptions, 'reporter'>; json: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        budget: { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        'eval-seed': { type: 'string' },
        'eval-bytes': { type: 'string' },
        data: { type: 'string' },
        'cache-dir': { type: 'string' },
        candidate: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        warmup: { type: 'string' },
        'memory-mb': { type: 'string' },
        isolation: { type: 'string' },
        image: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const budget = values.budget === undefined ? 300 : Number(values.budget);
  if (!Number.isFinite(budget) || budget <= 0) throw new UsageError(`--budget must be a positive number of seconds, got "${values.budget}".`);
  const candidate = resolve(values.candidate ?? join(REPO_DIR, DEFAULT_CANDIDATE));
  if (!existsSync(candidate)) throw new UsageError(`--candidate ${candidate} does not exist; pass the path of a training file like trainer/train.ts.`);
  const isolation = oneOf('isolation', values.isolation, ['none', 'docker'] as const, 'none');
  if (isolation === 'docker' && !values.image) throw new UsageError('--isolation docker needs --image <ref>, the trainer image to run each child in.');
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    json: values.json ?? false,
    options: {
      budgetSeconds: budget,
      backend: oneOf<BackendChoice>('backend', values.backend, BACKEND_CHOICES, 'auto'),
      seed: int('seed', values.seed, 1337, -(2 ** 31)),
      evalSeed: values['eval-seed'] === undefined ? null : int('eval-seed', values['eval-seed'], 0, -(2 ** 31)),
      evalBytes: int('eval-bytes', values['eval-bytes'], 200_000, 1024),
      data: oneOf<DatasetName>('data', values.data, DATASETS, 'brown'),
      cacheDir: resolve(values['cache-dir'] ?? join(REPO_DIR, '.cache/data')),
      candidate,
      outDir: resolve(values.out ?? join('runs', stamp)),
      warmupSteps: int('warmup', values.warmup, 0, 0),
      memoryMb: values['memory-mb'] === undefined ? null : int('memory-mb', values['memory-mb'], 0, 64),
      isolation,
      image: values.image ?? null,
    },
  };
}

function summary(r: ExperimentResult, outDir: string): string {
  const head =
    r.status === 'ok'
      ? `val_bpb ${r.val_bpb?.toFixed(4)}  (bigram ${r.bigram_bpb.toFixed(4)}, unigram ${r.unigram_bpb.toFixed(4)}, uniform 8.0)`
      : `FAILED (${r.failure?.kind}): ${r.failure?.message}`;
  return [
    head,
    `${r.steps} steps, ${r.tokens} tokens in ${r.train_seconds.toFixed(1)} s (${Math.round(r.tokens_per_second)} tok/s), total ${r.total_seconds.toFixed(1)} s`,
    `${r.params} params on ${r.backend} / ${r.device} [${r.hardware_class}], peak ${r.peak_memory_mb} MB`,
    `result: ${join(outDir, 'result.json')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const { options, json } = parsed;
  const reporter = makeReporter({ tty: Boolean(process.stderr.isTTY) && !json });
  const result = await runExperiment({ ...options, reporter });
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${summary(result, options.outDir)}\n`);
  if (result.status === 'ok') return 0;
  if (result.failure?.kind === 'harness_error') {
    process.stderr.write(`harness error: ${result.failure.message}\n`);
    return 2;
  }
  return 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`harness error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(2);
  },
);
