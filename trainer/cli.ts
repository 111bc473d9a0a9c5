// `npm run experiment -- [options]`: train a candidate for a fixed budget and score it.
// Exit 0: ok; 1: the candidate failed (result.json says why); 2: bad arguments or harness error;
// 3: given back before training, the machine below the App's pace floor (status off_pace).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, type BackendChoice } from './backend.js';
import { DATASETS, type DatasetName } from './data/dataset.js';
import { parsePins, type Shard } from './data/pins.js';
import { parsePaceFloors, type PaceFloors } from './pace-floors.js';
import { makeReporter } from './progress.js';
import { encodeSchedule, linearSchedule, MAX_STEPS } from './replay-schedule.js';
import type { ExperimentResult } from './result.js';
import { DEFAULT_CANDIDATE } from './runtime.js';
import { sandboxProblem } from './sandbox.js';
import { REPO_DIR, runExperiment, type ExperimentOptions } from './supervisor.js';

/** train-worker.ts caps warm-up steps at its MAX_WARMUP_STEPS; the CLI refuses more (a test checks the two agree). */
export const MAX_WARMUP_STEPS = 20;

export const USAGE = `usage: npm run experiment -- [options]
  --budget <seconds>        training time (default 300)
  --backend <b>             auto | node-gpu | webgpu | node | wasm | cpu (default auto)
  --seed <int>              model and batch seed (default 1337)
  --eval-seed <int>         official runs: held-out windows drawn by this seed (default: dev split)
  --eval-bytes <n>          bytes to evaluate (default 200000)
  --data <d>                brown | fineweb (default brown; fineweb when --pins is given)
  --pins <file>             the pinned FineWeb-Edu shards (\`npm run pin-data\` writes them); each is checked by sha256
  --cache-dir <dir>         where remote shards are cached (default .cache/data)
  --candidate <file>        the training file (default trainer/train.ts)
  --out <dir>               writes result.json and train.log (default runs/<timestamp>)
  --json                    print only the result JSON on stdout
  --warmup <steps>          warm-up steps on random tokens, inside the budget (default 0, at most ${MAX_WARMUP_STEPS})
  --max-candidate-bytes <n> refuse a larger candidate (default 65536, the App's max_file_bytes)
  --memory-mb <n>           memory cap for each child and all its processes (default 16384, or 3/4 of RAM)
  --pids-limit <n>          processes and threads for each sandboxed child (default 4096)
  --isolation <i>           none | sandbox (bubblewrap) | docker (default none)
  --image <ref>             the trainer image, for --isolation docker
  --steps <n>               train exactly n steps, progress growing evenly with the step, whatever the
                            machine's pace or load (a replay of a step budget; budget only caps it at 3x)
  --replay <schedule>       replay a run: the same steps and progress values as its result.json's
                            replay.schedule (with the same --seed, the same checkpoint on wasm and cpu)
  --seal-key <base64>       official runs: seal the checkpoint's digest to this X25519 key (the App's)
                            instead of writing it in clear; needs --nonce
  --nonce <nonce>           the job's nonce, sealed with the digest
  --pace-floors <json>      official runs: the App's pre-flight floors, {"<class>": {"<workload>": GFLOP/s}};
                            a machine whose calibration before training is below its floor gives the job
                            back at once (status off_pace, exit 3) instead of training`;

export class UsageError extends Error {}

function int(name: string, v: string | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer ${range}, got "${v}".`);
  return Number(v);
}

/**
 * `--budget -5` as `--budget=-5`: node's parseArgs takes a value that starts with a dash for an
 * option and calls it ambiguous; a negative number is a value, so the range check can name it.
 */
export function joinNegativeValues(argv: readonly string[], stringOptions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && stringOptions.has(a.slice(2)) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** The native backends are optional dependencies: name the missing one and how to get it, before anything starts. */
export function checkInstalled(backend: BackendChoice, isolation: string, resolvePackage: (name: string) => string = createRequire(import.meta.url).resolve): void {
  if ((backend !== 'node-gpu' && backend !== 'node') || isolation === 'docker') return;
  const pkg = backend === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  try {
    resolvePackage(pkg);
  } catch {
    const gpu = backend === 'node-gpu' ? ' (it needs CUDA 11.8 and cuDNN 8; the trainer image trainer/Dockerfile has them)' : '';
    throw new UsageError(
      `--backend ${backend} needs ${pkg}, which is not installed here: it is an optional dependency whose install downloads libtensorflow, and \`npm ci\` skips it when that download fails. ` +
        `Install it with \`npm install --no-save ${pkg}@4.22.0\`${gpu}, or choose --backend auto, wasm or cpu.`,
    );
  }
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}".`);
  return v as T;
}

const OPTIONS = {
  budget: { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  'eval-seed': { type: 'string' },
  'eval-bytes': { type: 'string' },
  data: { type: 'string' },
  'cache-dir': { type: 'string' },
  pins: { type: 'string' },
  'max-candidate-bytes': { type: 'string' },
  candidate: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  warmup: { type: 'string' },
  'memory-mb': { type: 'string' },
  'pids-limit': { type: 'string' },
  isolation: { type: 'string' },
  image: { type: 'string' },
  steps: { type: 'string' },
  replay: { type: 'string' },
  'seal-key': { type: 'string' },
  nonce: { type: 'string' },
  'pace-floors': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCli(argv: string[], now = new Date()): { options: Omit<ExperimentOptions, 'reporter'>; json: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv, new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => k))),
      strict: true,
      allowPositionals: false,
      options: OPTIONS,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const budget = values.budget === undefined ? 300 : Number(values.budget);
  if (!Number.isFinite(budget) || budget <= 0) throw new UsageError(`--budget must be a number of seconds greater than 0 (default 300), got "${values.budget}".`);
  const backend = oneOf<BackendChoice>('backend', values.backend, BACKEND_CHOICES, 'auto');
  const candidate = resolve(values.candidate ?? join(REPO_DIR, DEFAULT_CANDIDATE));
  if (!existsSync(candidate)) throw new UsageError(`--candidate ${candidate} does not exist; pass the path of a training file like trainer/train.ts.`);
  const isolation = oneOf('isolation', values.isolation, ['none', 'sandbox', 'docker'] as const, 'none');
  if (isolation === 'docker' && !values.image) throw new UsageError('--isolation docker needs --image <ref>, the trainer image to run each child in.');
  checkInstalled(backend, isolation);
  const sandboxProblemText = isolation === 'sandbox' ? sandboxProblem(REPO_DIR) : null;
  if (sandboxProblemText) throw new UsageError(`--isolation sandbox: ${sandboxProblemText}`);
  const data = oneOf<DatasetName>('data', values.data, DATASETS, values.pins === undefined ? 'brown' : 'fineweb');
  if (values.pins !== undefined && data !== 'fineweb') throw new UsageError('--pins applies to --data fineweb only.');
  if (data === 'fineweb' && values.pins === undefined) throw new UsageError('--data fineweb needs --pins <file>, the shards and their sha256 (`npm run pin-data` writes them).');
  let shards: Shard[] | undefined;
  if (values.pins !== undefined) {
    try {
      shards = parsePins(readFileSync(values.pins, 'utf8'), values.pins);
    } catch (e) {
      throw new UsageError(`--pins: ${(e as Error).message}`);
    }
  }
  if (values.steps !== undefined && values.replay !== undefined) throw new UsageError('--steps and --replay both set how many steps to train; pass one of them.');
  const steps = values.steps === undefined ? undefined : int('steps', values.steps, 1, 1, MAX_STEPS);
  if (values['seal-key'] && values.nonce === undefined) throw new UsageError("--seal-key needs --nonce, the job's nonce sealed with the digest.");
  let paceFloors: PaceFloors | null = null;
  try {
    paceFloors = parsePaceFloors(values['pace-floors'] ?? '', '--pace-floors');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    json: values.json ?? false,
    options: {
      budgetSeconds: budget,
      backend,
      seed: int('seed', values.seed, 1337, -(2 ** 31), 2 ** 31 - 1),
      evalSeed: values['eval-seed'] === undefined ? null : int('eval-seed', values['eval-seed'], 0, -(2 ** 31), 2 ** 31 - 1),
      evalBytes: int('eval-bytes', values['eval-bytes'], 200_000, 1024),
      data,
      ...(shards ? { shards } : {}),
      maxCandidateBytes: int('max-candidate-bytes', values['max-candidate-bytes'], 64 * 1024, 1),
      cacheDir: resolve(values['cache-dir'] ?? join(REPO_DIR, '.cache/data')),
      candidate,
      outDir: resolve(values.out ?? join('runs', stamp)),
      warmupSteps: int('warmup', values.warmup, 0, 0, MAX_WARMUP_STEPS),
      memoryMb: values['memory-mb'] === undefined ? null : int('memory-mb', values['memory-mb'], 0, 64),
      isolation,
      image: values.image ?? null,
      ...(values['pids-limit'] === undefined ? {} : { pidsLimit: int('pids-limit', values['pids-limit'], 0, 16) }),
      // a malformed schedule is the run's harness_error (one result naming it), not a usage error
      replay: steps === undefined ? (values.replay ?? null) : encodeSchedule(linearSchedule(steps)),
      sealKey: values['seal-key'] || null,
      nonce: values.nonce ?? null,
      paceFloors,
    },
  };
}

/** What a person reads at the end of a run: the score or the failure, and only the figures that mean something for it. */
export function summary(r: ExperimentResult, outDir: string): string {
  const lines =
    r.status === 'ok'
      ? [`val_bpb ${r.val_bpb?.toFixed(4)}  (bigram ${r.bigram_bpb.toFixed(4)}, unigram ${r.unigram_bpb.toFixed(4)}, uniform 8.0)`]
      : r.status === 'off_pace'
        ? [`OFF PACE: the calibration ran at ${r.preflight?.gflops.toFixed(2)} GFLOP/s, below the floor of ${r.preflight?.floor_gflops}; the job was given back before training`]
        : [`FAILED (${r.failure?.kind}): ${r.failure?.message}`];
  if (r.steps > 0) lines.push(`${r.steps} steps, ${r.tokens} tokens in ${r.train_seconds.toFixed(1)} s (${Math.round(r.tokens_per_second)} tok/s), total ${r.total_seconds.toFixed(1)} s`);
  const on = r.backend === 'none' ? `${r.device} [${r.hardware_class}], no backend loaded` : `${r.backend} / ${r.device} [${r.hardware_class}]`;
  lines.push(`${r.params > 0 ? `${r.params} params on ` : ''}${on}, peak ${r.peak_memory_mb} MB`);
  if (r.replay?.digest) lines.push(`checkpoint sha256 ${r.replay.digest}${r.replay.of ? ' (a replay: the same --seed and schedule give the same digest on wasm and cpu)' : ''}`);
  lines.push(`result: ${join(outDir, 'result.json')}, log: ${join(outDir, 'train.log')}`);
  return lines.join('\n');
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
  if (result.status === 'off_pace') return 3;
  if (result.failure?.kind === 'harness_error') {
    // the summary already said it on stdout; with --json stdout holds only the result, so say it once on stderr
    if (json) process.stderr.write(`harness error: ${result.failure.message}\n`);
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
