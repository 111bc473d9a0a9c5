// The supervisor: the trusted side of an experiment. It never imports candidate code. It owns
// the clock (budget, stop file, kill after the grace), the data and the evaluation windows,
// the scoring (log-softmax and bits per byte from the eval child's logits), the probes and
// the result file, which it alone writes, after both children are gone.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from './backend.js';
import { fitReference, referenceBpb } from './bpb.js';
import { CHECKPOINT_DATA, CHECKPOINT_MANIFEST } from './checkpoint.js';
import { startChild, type ChildOutcome, type RunningChild } from './child.js';
import { loadDataset, type Dataset, type DatasetName } from './data/dataset.js';
import { devWindows, heldoutWindows, type EvalSet } from './data/windows.js';
import { describeDevice, detectHardware, hardwareClass, type HardwareInfo } from './hardware.js';
import { candidateSha256, harnessSha256, HARNESS_VERSION, isHarnessPath, readHarnessFiles, sha256 } from './harness-version.js';
import { dockerRunArgs, type ChildSpec } from './isolation.js';
import { describeAdapter, webgpuClass, type AdapterInfo } from './webgpu.js';
import { LogitsScorer } from './eval-scorer.js';
import { planProbes } from './probes.js';
import { childEntry } from './runtime.js';
import type { Reporter } from './progress.js';
import { ExperimentResult, RESULT_SCHEMA_VERSION, type FailureKind, type JobInfo, type LossPoint } from './result.js';
import {
  CONFIG_FILE,
  EVAL_INPUT_FILE,
  GO_FILE,
  LOGITS_FILE,
  START_FILE,
  STOP_FILE,
  type ChildEvent,
  type EvalConfig,
  type EvalPlan,
  type TrainConfig,
} from './worker-protocol.js';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULT_FILE = 'result.json';
export const LOG_FILE = 'train.log';

export interface ExperimentOptions {
  budgetSeconds: number;
  backend: BackendChoice;
  seed: number;
  /** null: the public dev split (local runs) */
  evalSeed: number | null;
  evalBytes: number;
  data: DatasetName;
  cacheDir: string;
  candidate: string;
  outDir: string;
  warmupSteps: number;
  memoryMb: number | null;
  isolation: 'none' | 'docker';
  image: string | null;
  reporter: Reporter;
  /** seconds a child has after the stop file to save its checkpoint and exit */
  graceSeconds?: number;
  /** seconds from spawn to 'ready' (backend, import, createModel, warm-up) */
  setupTimeoutSeconds?: number;
  /** seconds the eval child has in all */
  evalTimeoutSeconds?: number;
  /** causality probe rows shuffled in among the evaluation rows */
  probeRows?: number;
  /** rows per logits() call in evaluation */
  evalBatchRows?: number;
  job?: JobInfo | null;
  /** for tests: a dataset instead of `data` */
  dataset?: Dataset;
  repoDir?: string;
}

class RunFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
  }
}

const MAX_CURVE_POINTS = 256;
/** rows per logits() call; on wasm 32 rows of the default model evaluated no slower than 64 or 256 */
const EVAL_BATCH_ROWS = 32;
/** docker always gets a memory cap; without --memory-mb this one */
const DOCKER_DEFAULT_MEMORY_MB = 16384;
const CHILD_ENV_KEEP = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES', 'TF_CPP_MIN_LOG_LEVEL'];

/** Keep the first points (determinism checks read them) and an even sample of the rest. */
export function sampleCurve(points: LossPoint[], max = MAX_CURVE_POINTS): LossPoint[] {
  if (points.length <= max) return points;
  const head = points.slice(0, 20);
  const rest = points.slice(20);
  const k = max - head.length;
  const out = [...head];
  for (let i = 0; i < k; i++) out.push(rest[Math.round((i * (rest.length - 1)) / (k - 1))]);
  return out;
}

/** Both children hold the GPU at once (the eval child waits while training runs): TensorFlow
 * must not reserve all GPU memory up front in either. */
const CHILD_ENV_SET = { TF_FORCE_GPU_ALLOW_GROWTH: 'true' };

function childEnv(): Record<string, string> {
  const env: Record<string, string> = { ...CHILD_ENV_SET };
  for (const k of CHILD_ENV_KEEP) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return env;
}

/** The failure a finished child stands for, or null if it did what it was asked. */
function childFailure(phase: string, out: ChildOutcome, events: ChildEvent[]): RunFailure | null {
  if (out.killed) return new RunFailure(out.killed.kind, out.killed.message);
  const failed = events.find((e): e is ChildEvent & { type: 'failed' } => e.type === 'failed');
  if (failed) return new RunFailure(failed.kind, `${phase}: ${failed.message}`);
  if (out.code !== 0) {
    const how = out.signal ? `was killed by ${out.signal}` : `exited with code ${out.code}`;
    // SIGKILL/137 that the supervisor did not send: the kernel's (or docker's) OOM killer
    const kind: FailureKind = out.signal === 'SIGKILL' || out.code === 137 ? 'oom' : 'crash';
    return new RunFailure(kind, `the ${phase} process ${how}: ${out.stderrTail.slice(-5).join(' | ') || 'no output'}`);
  }
  return null;
}

/** What the output directory holds: name -> size and mtime. */
function listing(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of readdirSync(dir)) {
    const st = statSync(join(dir, n));
    m.set(n, `${st.size}:${st.mtimeMs}`);
  }
  return m;
}

/** Files in the out dir that the supervisor did not write: a child reached for the result. */
function outDirIntruders(outDir: string, before: Map<string, string>, logBytes: number): string | null {
  const now = listing(outDir);
  if (!now.has(LOG_FILE)) return `deleted ${LOG_FILE} in the output directory`;
  if (statSync(join(outDir, LOG_FILE)).size !== logBytes) return `changed ${LOG_FILE} in the output directory`;
  const created = [...now.keys()].filter((n) => n !== LOG_FILE && !before.has(n));
  if (created.length > 0) return `created ${created.join(', ')} in the output directory`;
  const changed = [...before.keys()].filter((n) => n !== LOG_FILE && before.get(n) !== now.get(n));
  if (changed.length > 0) return `changed ${changed.join(', ')} in the output directory`;
  return null;
}

export async function runExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const repoDir = opts.repoDir ?? REPO_DIR;
  const startedAt = new Date();
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const reporter = opts.reporter;
  const grace = opts.graceSeconds ?? 15;
  const setupTimeout = opts.setupTimeoutSeconds ?? 180;
  const evalTimeout = opts.evalTimeoutSeconds ?? Math.max(120, opts.budgetSeconds);
  const candidate = resolve(opts.candidate);

  mkdirSync(opts.outDir, { recursive: true });
  for (const stale of [RESULT_FILE, LOG_FILE]) rmSync(join(opts.outDir, stale), { force: true });
  const logFd = openSync(join(opts.outDir, LOG_FILE), 'w');
  let logBytes = 0;
  const log = (line: string) => {
    const b = Buffer.from(`${seconds().toFixed(2).padStart(8)} ${line}\n`);
    writeSync(logFd, b);
    logBytes += b.length;
  };

  const outBefore = listing(opts.outDir);
  const harnessBefore = readHarnessFiles(repoDir);
  const harnessSha = harnessSha256(harnessBefore);
  const candidateSha = candidateSha256(candidate);
  const hw: HardwareInfo = detectHardware();
  const work = mkdtempSync(join(tmpdir(), 'autoresearch-'));
  chmodSync(work, 0o755);

  const state = {
    backend: 'none',
    gpu: false,
    note: '',
    adapter: undefined as AdapterInfo | undefined,
    contextLength: 0,
    batchSize: 0,
    params: 0,
    steps: 0,
    curve: [] as LossPoint[],
    trainSeconds: 0,
    peakMb: 0,
  };
  let dataset: Dataset | null = opts.dataset ?? null;
  let evalSet: EvalSet | null = null;
  let valBpb: number | null = null;
  let failure: RunFailure | null = null;

  const live: RunningChild[] = [];
  const launch = (phase: 'train' | 'eval', workDir: string, cfg: TrainConfig | EvalConfig, dataMounts: { host: string; container: string }[], onEvent: (e: ChildEvent) => void) => {
    const docker = opts.isolation === 'docker';
    const inWork = docker ? '/work' : workDir;
    writeFileSync(join(workDir, CONFIG_FILE), JSON.stringify({ ...cfg, workDir: inWork }));
    chmodSync(workDir, 0o777); // the container runs as an unprivileged uid
    const name = `autoresearch-${phase}-${randomBytes(6).toString('hex')}`;
    if (docker && !opts.image) throw new RunFailure('harness_error', '--isolation docker needs --image <ref> (the trainer image).');
    const argv = childArgv({ phase, isolation: opts.isolation, image: opts.image ?? '', gpu: hw.gpus.length > 0, memoryMb: opts.memoryMb, repoDir, workDir, dataMounts, name });
    log(`[harness] ${phase}: ${argv.join(' ')}`);
    const child = startChild({
      argv,
      cwd: repoDir,
      env: childEnv(),
      containerName: docker ? name : undefined,
      memoryMb: opts.memoryMb,
      onEvent,
      onLog: (l) => log(`[${phase}] ${l}`),
    });
    live.push(child);
    return child;
  };

  try {
    reporter.phase(`data: loading ${opts.data}`);
    dataset ??= await loadDataset(opts.data, { cacheDir: opts.cacheDir }).catch((e: Error) => {
      throw new RunFailure('harness_error', e.message);
    });
    const ds = dataset;

    // ---- train
    const trainWork = join(work, 'train');
    const dataDir = join(work, 'data');
    mkdirSync(trainWork);
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'train.bin'), ds.train);
    const docker = opts.isolation === 'docker';
    const trainCfg: TrainConfig = {
      phase: 'train',
      candidate: docker ? containerPath(repoDir, candidate) : candidate,
      seed: opts.seed,
      backend: opts.backend,
      // a software WebGPU adapter only ever for local runs (an official run has a job)
      allowSoftwareGpu: !opts.job,
      trainData: docker ? '/data/train/train.bin' : join(dataDir, 'train.bin'),
      budgetSeconds: opts.budgetSeconds,
      warmupSteps: opts.warmupSteps,
      workDir: trainWork,
    };
    // the eval child sets up alongside the train child (before the clock), then waits
    const evalWork = join(work, 'eval');
    mkdirSync(evalWork);
    const evalCfg: EvalConfig = { phase: 'eval', candidate: trainCfg.candidate, seed: opts.seed, backend: opts.backend, allowSoftwareGpu: trainCfg.allowSoftwareGpu, workDir: evalWork };
    reporter.phase(`train: starting the candidate (${relative(repoDir, candidate) || candidate})`);
    let tReady = 0;
    let tStop = 0;
    let stopped = false;
    let scorer: LogitsScorer | null = null;
    const ready = { train: false, eval: false };
    let bothReady: () => void = () => {};
    const setupDone = new Promise<void>((r) => (bothReady = r));
    const markReady = (who: 'train' | 'eval') => {
      ready[who] = true;
      if (ready.train && ready.eval) bothReady();
    };
    const timers: NodeJS.Timeout[] = [];
    const trainEvents: ChildEvent[] = [];
    const evalEvents: ChildEvent[] = [];
    const train = launch('train', trainWork, trainCfg, [{ host: dataDir, container: '/data/train' }], (ev) => {
      trainEvents.push(ev);
      if (ev.type === 'backend') Object.assign(state, { backend: ev.backend, gpu: ev.gpu, note: ev.note, adapter: ev.adapter });
      if (ev.type === 'backend') log(`[harness] backend ${ev.backend} (${ev.choice}) gpu=${ev.gpu} kernels=[${ev.kernels}] ${ev.note} ${ev.skipped.join('; ')}`);
      if (ev.type === 'ready' && !ready.train) {
        Object.assign(state, { contextLength: ev.contextLength, batchSize: ev.batchSize, params: ev.params });
        log(`[harness] train ready: T=${ev.contextLength} B=${ev.batchSize} params=${ev.params}`);
        markReady('train');
      }
      if (ev.type === 'step' && tReady > 0 && Number.isFinite(ev.step) && Number.isFinite(ev.loss)) {
        const t = Math.max(0, seconds() - tReady);
        state.steps = ev.step;
        state.curve.push({ step: ev.step, t, loss: ev.loss });
        reporter.update({ elapsed: t, step: ev.step, loss: ev.loss, tokensPerSecond: t > 0 ? (ev.step * state.batchSize * state.contextLength) / t : 0 });
      }
      if (ev.type === 'stopped') {
        stopped = true;
        state.steps = ev.steps;
      }
    });
    const evalChild = launch('eval', evalWork, evalCfg, [], (e) => {
      evalEvents.push(e);
      if (e.type === 'ready' && !ready.eval) {
        log('[harness] eval ready, waiting for the checkpoint');
        markReady('eval');
      }
      if (e.type === 'eval_progress') scorer?.consume(e.rows);
      if (e.type === 'eval_done') log(`[harness] eval: logits for ${e.rows} rows written`);
    });
    let evalExited = false;
    const evalDone = evalChild.done.then((o) => {
      evalExited = true;
      return o;
    });
    timers.push(
      setTimeout(() => {
        const why = `setup (backend, import, createModel, warm-up) took longer than ${setupTimeout}s.`;
        if (!ready.train) train.kill('timeout', why);
        if (!ready.eval) evalChild.kill('timeout', `eval ${why}`);
      }, setupTimeout * 1000),
    );
    await Promise.race([setupDone, train.done, evalDone]);
    if (ready.train && ready.eval && !evalExited) {
      tReady = seconds();
      writeFileSync(join(trainWork, START_FILE), '');
      log('[harness] the clock starts');
      reporter.start(opts.budgetSeconds);
      timers.push(
        setTimeout(() => {
          tStop = seconds();
          writeFileSync(join(trainWork, STOP_FILE), '');
          log(`[harness] budget of ${opts.budgetSeconds}s reached: stop`);
          timers.push(setTimeout(() => train.kill('timeout', `the candidate did not stop within ${grace}s of the stop signal.`), grace * 1000));
        }, opts.budgetSeconds * 1000),
      );
    } else {
      // one child failed during setup: the other is of no use
      train.kill('crash', 'the train process was stopped because setup failed.');
      if (!evalExited) evalChild.kill('crash', 'the eval process was stopped because setup failed.');
    }
    const trainOut = await train.done;
    timers.forEach(clearTimeout);
    reporter.stop();
    state.peakMb = Math.max(state.peakMb, trainOut.peakRssMb);
    state.trainSeconds = tReady === 0 ? 0 : (tStop || seconds()) - tReady;
    const intruder = outDirIntruders(opts.outDir, outBefore, logBytes);
    if (intruder) throw new RunFailure('tamper', `the candidate ${intruder}; only the harness writes results.`);
    const early = evalExited ? childFailure('eval', await evalDone, evalEvents) : null;
    failure = early ?? childFailure('train', trainOut, trainEvents);
    if (!failure && (!stopped || tStop === 0)) failure = new RunFailure('crash', 'the train process exited before the stop signal.');
    if (!failure && !existsSync(join(trainWork, CHECKPOINT_MANIFEST))) failure = new RunFailure('crash', 'the train process left no checkpoint.');
    if (failure) {
      evalChild.kill('crash', 'not needed: training failed.');
      await evalDone;
      throw failure;
    }

    // ---- eval
    const T = state.contextLength;
    evalSet = opts.evalSeed === null ? devWindows(ds.val, opts.evalBytes, T) : heldoutWindows(ds.val, opts.evalBytes, T, opts.evalSeed);
    const plan = planProbes(evalSet, opts.probeRows ?? 32);
    for (const f of [CHECKPOINT_MANIFEST, CHECKPOINT_DATA]) copyFileSync(join(trainWork, f), join(evalWork, f));
    writeFileSync(join(evalWork, EVAL_INPUT_FILE), plan.input);
    // The eval child writes here; in docker mode it runs as another uid than the supervisor
    // (1000:1000 when the runner is root), so the file must be writable by it (umask aside).
    writeFileSync(join(evalWork, LOGITS_FILE), '');
    chmodSync(join(evalWork, LOGITS_FILE), 0o666);
    scorer = new LogitsScorer(join(evalWork, LOGITS_FILE), plan, evalSet);
    const evalPlan: EvalPlan = { contextLength: T, rows: plan.inputRows, batchRows: opts.evalBatchRows ?? EVAL_BATCH_ROWS };
    writeFileSync(join(evalWork, `${GO_FILE}.tmp`), JSON.stringify(evalPlan));
    renameSync(join(evalWork, `${GO_FILE}.tmp`), join(evalWork, GO_FILE)); // appears whole
    reporter.phase(`eval: ${evalSet.rows * T} bytes (${opts.evalSeed === null ? 'dev split' : `held-out, eval seed ${opts.evalSeed}`})`);
    log('[harness] eval: go');
    const evalTimer = setTimeout(() => evalChild.kill('timeout', `evaluation took longer than ${evalTimeout}s.`), evalTimeout * 1000);
    const evalOut = await evalDone;
    clearTimeout(evalTimer);
    state.peakMb = Math.max(state.peakMb, evalOut.peakRssMb);
    const evalIntruder = outDirIntruders(opts.outDir, outBefore, logBytes);
    if (evalIntruder) throw new RunFailure('tamper', `the candidate ${evalIntruder}; only the harness writes results.`);
    const evalFailure = childFailure('eval', evalOut, evalEvents);
    if (evalFailure) throw evalFailure;
    const scored = scorer.finish();
    if ('kind' in scored) throw new RunFailure(scored.kind, scored.message);
    valBpb = scored.bpb;

    const changed = changedFiles(harnessBefore, readHarnessFiles(repoDir));
    if (changed.length > 0) throw new RunFailure('tamper', `the harness files under trainer/ changed during the run: ${changed.join(', ')}.`);
    if (candidateSha256(candidate) !== candidateSha) throw new RunFailure('tamper', 'the candidate file changed during the run.');
  } catch (e) {
    failure = e instanceof RunFailure ? e : new RunFailure('harness_error', (e as Error)?.stack ?? String(e));
    valBpb = null;
  } finally {
    // no child outlives its run, whatever path ended it
    for (const c of live) c.kill('crash', 'the run is over.');
    await Promise.all(live.map((c) => c.done));
    rmSync(work, { recursive: true, force: true });
  }

  // reference scores on the very bytes that were (or would have been) scored
  let refs = { unigram: 0, bigram: 0 };
  let evalBytes = 0;
  if (dataset) {
    const set = evalSet ?? safeWindows(dataset, opts);
    if (set) {
      refs = referenceBpb(fitReference(dataset.train), set.x, set.y);
      evalBytes = set.rows * set.T;
    }
  }
  if (failure) log(`[harness] FAILED ${failure.kind}: ${failure.message}`);

  const tokens = state.steps * state.batchSize * state.contextLength;
  const result: ExperimentResult = {
    schema_version: RESULT_SCHEMA_VERSION,
    harness_version: HARNESS_VERSION,
    status: failure ? 'failed' : 'ok',
    failure: failure ? { kind: failure.kind, message: failure.message } : null,
    val_bpb: failure ? null : valBpb,
    unigram_bpb: refs.unigram,
    bigram_bpb: refs.bigram,
    eval_bytes: evalBytes,
    eval_split: opts.evalSeed === null ? 'dev' : 'heldout',
    dataset: dataset?.name ?? opts.data,
    steps: state.steps,
    tokens,
    budget_seconds: opts.budgetSeconds,
    train_seconds: state.trainSeconds,
    total_seconds: seconds(),
    tokens_per_second: state.trainSeconds > 0 ? tokens / state.trainSeconds : 0,
    params: state.params,
    backend: state.backend,
    device: state.adapter ? describeAdapter(state.adapter) : describeDevice(hw, state.gpu, state.note),
    hardware_class: state.adapter ? webgpuClass(state.adapter) : hardwareClass(hw, state.gpu),
    peak_memory_mb: Math.round(state.peakMb),
    seed: opts.seed,
    eval_seed: opts.evalSeed,
    candidate_sha256: candidateSha,
    harness_sha256: harnessSha,
    loss_curve: sampleCurve(state.curve),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    job: opts.job ?? null,
  };
  const parsed = ExperimentResult.parse(result);
  log(`[harness] ${parsed.status === 'ok' ? `val_bpb ${parsed.val_bpb?.toFixed(4)}` : 'no score'} (bigram ${refs.bigram.toFixed(4)}, unigram ${refs.unigram.toFixed(4)})`);
  writeFileSync(join(opts.outDir, RESULT_FILE), `${JSON.stringify(parsed, null, 2)}\n`);
  return parsed;
}

/** The command line of one child: node on the host (its entry from trainer/runtime.ts), or `docker run`
 * through trainer/isolation.ts with only the trusted source, the child's work dir and its data mounted. */
export function childArgv(c: {
  phase: 'train' | 'eval';
  isolation: 'none' | 'docker';
  image: string;
  gpu: boolean;
  memoryMb: number | null;
  repoDir: string;
  workDir: string;
  dataMounts: { host: string; container: string }[];
  name: string;
}): string[] {
  const { nodeArgs, worker } = childEntry(c.phase, c.isolation);
  if (c.isolation === 'none') return [process.execPath, ...nodeArgs, join(c.repoDir, worker), c.workDir];
  const spec: ChildSpec = {
    phase: c.phase,
    image: c.image,
    gpu: c.gpu,
    memoryMb: c.memoryMb ?? DOCKER_DEFAULT_MEMORY_MB,
    repoDir: c.repoDir,
    workDir: c.workDir,
    dataMounts: c.dataMounts,
    command: ['node', ...nodeArgs, worker, '/work'],
    env: { ...CHILD_ENV_SET },
    name: c.name,
  };
  return ['docker', ...dockerRunArgs(spec)];
}

function changedFiles(before: { path: string; content: Uint8Array }[], after: { path: string; content: Uint8Array }[]): string[] {
  const digest = (fs: typeof before) => new Map(fs.filter((f) => isHarnessPath(f.path)).map((f) => [f.path, sha256(f.content)]));
  const a = digest(before);
  const b = digest(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
}

function safeWindows(ds: Dataset, opts: ExperimentOptions): EvalSet | null {
  try {
    // no context length from the candidate: the references then use one of 64 bytes
    return opts.evalSeed === null ? devWindows(ds.val, opts.evalBytes, 64) : heldoutWindows(ds.val, opts.evalBytes, 64, opts.evalSeed);
  } catch {
    return null;
  }
}

/** Where a host file of the checkout appears inside the container (/app). */
function containerPath(repoDir: string, file: string): string {
  const rel = relative(repoDir, file);
  if (rel.startsWith('..') || !rel.startsWith(`trainer${sep}`)) {
    throw new RunFailure('harness_error', `with --isolation docker the candidate must live under ${join(repoDir, 'trainer')}; got ${file}.`);
  }
  return `/app/${rel.split(sep).join('/')}`;
}
