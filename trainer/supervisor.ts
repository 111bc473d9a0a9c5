// The supervisor: the trusted side of an experiment. It never imports candidate code. It owns
// the clock, the data (served a batch at a time over the train child's stdin), the
// evaluation windows (streamed a batch at a time to two separate eval children: the scored
// pass and the probe pass), the scoring (log-softmax and bits per byte from their logits),
// and the result file, which it alone writes, after every child is gone. It shares no
// directory with a child: every byte goes over pipes it opened (trainer/worker-protocol.ts).
import { randomBytes } from 'node:crypto';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendChoice } from './backend.js';
import { fitReference, referenceBpb } from './bpb.js';
import { checkpointCapBytes } from './checkpoint.js';
import { ChildChannel } from './child-channel.js';
import { loadDataset, type Dataset, type DatasetName } from './data/dataset.js';
import type { Shard } from './data/pins.js';
import { evalWindows, type EvalSet } from './data/windows.js';
import { candidateWindows, prepareBeside, prepareEval, runEvalPass, type EvalLimits } from './eval-phase.js';
import { EvalScorer } from './eval-scorer.js';
import { describeDevice, detectHardware, hardwareClass, type HardwareInfo } from './hardware.js';
import { harnessSha256, HARNESS_VERSION, changedHarnessFiles, readHarnessFiles, sha256 } from './harness-version.js';
import { CHILD_ENV_SET, childArgv, containerPath } from './child-argv.js';
import { defaultMemoryMb } from './sandbox.js';
import { describeAdapter, webgpuClass } from './webgpu.js';
import { CAUSAL_ATOL, planEval } from './probes.js';
import type { Reporter } from './progress.js';
import { checkpointDigest, prepareReplay, replayBlock, type ReplayOptions } from './replay-proof.js';
import { ExperimentResult, RESULT_SCHEMA_VERSION, type JobInfo } from './result.js';
import { RunFailure } from './run-failure.js';
import { DEFAULT_DEADLINE_LIMITS, RunDeadline, runDeadlineSeconds, type DeadlineLimits } from './run-deadline.js';
import { DEFAULT_MAX_LOG_BYTES, listing, outDirIntruders, readRegularFile, RunLog, writeResultFile } from './run-output.js';
import { sampleCurve } from './sample-curve.js';
import { floorFor, type PaceFloors } from './pace-floors.js';
import { GivenBack, runTrain, type TrainLimits, type Trained } from './train-phase.js';
import type { Hello } from './worker-protocol.js';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export { LOG_FILE, RESULT_FILE } from './run-output.js';
export { childArgv } from './child-argv.js';

/** replay, sealKey, nonce: a replay of a schedule, and the proof sealed (trainer/replay-proof.ts) */
export interface ExperimentOptions extends ReplayOptions {
  budgetSeconds: number;
  backend: BackendChoice;
  seed: number;
  /** null: the public dev split (local runs) */
  evalSeed: number | null;
  evalBytes: number;
  data: DatasetName;
  /** --data fineweb: the pinned shards (from --pins), else the built-in list */
  shards?: Shard[];
  cacheDir: string;
  candidate: string;
  outDir: string;
  warmupSteps: number;
  memoryMb: number | null;
  isolation: 'none' | 'docker' | 'sandbox';
  image: string | null;
  /** processes and threads each sandboxed child may have (default PIDS_LIMIT) */
  pidsLimit?: number;
  reporter: Reporter;
  /** fixed part of the time a child has from the budget's end to its checkpoint (plus 3 median steps) */
  graceSeconds?: number;
  /** seconds from spawn to a child's hello: backend load and calibration, harness code only */
  backendTimeoutSeconds?: number;
  /** the eval children's bounds (see trainer/eval-phase.ts) */
  evalLimits?: Partial<EvalLimits>;
  /** the whole run's bound from the train child's spawn (trainer/run-deadline.ts) */
  deadlineLimits?: Partial<DeadlineLimits>;
  /** rows per logits() call in evaluation */
  evalBatchRows?: number;
  /** the App's max_file_bytes: a larger candidate is refused */
  maxCandidateBytes?: number;
  /** child output kept in train.log */
  maxLogBytes?: number;
  maxCheckpointBytes?: number;
  /** largest allowed log-probability difference between the scored and the probe pass (nats) */
  causalTolerance?: number;
  job?: JobInfo | null;
  /** the App's pre-flight floors (trainer/pace-floors.ts): a machine whose calibration before training is below its class's floor gives the job back */
  paceFloors?: PaceFloors | null;
  /** for tests: a dataset instead of `data` */
  dataset?: Dataset;
  repoDir?: string;
}

/** rows per logits() call; on wasm 32 rows of the default model evaluated no slower than 64 or 256 */
const EVAL_BATCH_ROWS = 32;
export const DEFAULT_MAX_CANDIDATE_BYTES = 64 * 1024;
const DEFAULT_EVAL_LIMITS: EvalLimits = { backendSeconds: 180, setupFloorSeconds: 10, setupFactor: 1, passFloorSeconds: 10, stepFactor: 8 };
const CHILD_ENV_KEEP = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES', 'TF_CPP_MIN_LOG_LEVEL'];

function childEnv(): Record<string, string> {
  const env: Record<string, string> = { ...CHILD_ENV_SET };
  for (const k of CHILD_ENV_KEEP) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return env;
}

export async function runExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const repoDir = opts.repoDir ?? REPO_DIR;
  const startedAt = new Date();
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const reporter = opts.reporter;
  const candidate = resolve(opts.candidate);
  const runLog = new RunLog(opts.outDir, t0, opts.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
  const log = (line: string) => runLog.harness(line);
  const outBefore = listing(opts.outDir);
  const harnessBefore = readHarnessFiles(repoDir);
  const harnessSha = harnessSha256(harnessBefore);
  const hw: HardwareInfo = detectHardware();
  const docker = opts.isolation === 'docker';

  let candidateSha = sha256('');
  let dataset: Dataset | null = opts.dataset ?? null;
  let evalSet: EvalSet | null = null;
  let trained: Trained | null = null;
  let digest: string | null = null;
  let valBpb: number | null = null;
  let causality: ExperimentResult['causality'] = null;
  let failure: RunFailure | null = null;
  const timings = { backend: 0, setup: 0, train: 0, stop: 0, eval: 0, probe: 0 };
  let after: ExperimentResult['calibration'] = null;
  let peakMb = 0;
  let givenBack: GivenBack | null = null;
  const classOf = (h: Hello) => (h.adapter ? webgpuClass(h.adapter) : hardwareClass(hw, h.gpu));
  const floorOf = (h: Hello) => floorFor(opts.paceFloors, classOf(h), h.calibration.workload);

  const live: ChildChannel[] = [];
  let deadline: RunDeadline | null = null;
  const launch = (phase: 'train' | 'eval' | 'probe') => {
    deadline?.check();
    const name = `autoresearch-${phase}-${randomBytes(6).toString('hex')}`;
    if (docker && !opts.image) throw new RunFailure('harness_error', '--isolation docker needs --image <ref> (the trainer image).');
    const argv = childArgv({ phase: phase === 'train' ? 'train' : 'eval', isolation: opts.isolation, image: opts.image ?? '', gpu: hw.gpus.length > 0, memoryMb: opts.memoryMb, repoDir, name, pidsLimit: opts.pidsLimit });
    log(`[harness] ${phase}: ${argv.join(' ')}`);
    const ch = new ChildChannel(phase, {
      argv,
      cwd: repoDir,
      env: childEnv(),
      containerName: docker ? name : undefined,
      memoryMb: opts.memoryMb ?? defaultMemoryMb(),
      onLog: (l) => runLog.child(`[${phase}] ${l}`),
    });
    live.push(ch);
    return ch;
  };
  const tamperCheck = () => {
    const intruder = outDirIntruders(opts.outDir, outBefore, runLog.bytes);
    if (intruder) throw new RunFailure('tamper', `the candidate ${intruder}; only the harness writes results.`);
  };

  try {
    const replay = prepareReplay(opts);
    let candidateBytes: Buffer;
    try {
      candidateBytes = readRegularFile(candidate, opts.maxCandidateBytes ?? DEFAULT_MAX_CANDIDATE_BYTES, 'the candidate');
    } catch (e) {
      throw new RunFailure('invalid_candidate', (e as Error).message);
    }
    candidateSha = sha256(candidateBytes);
    reporter.phase(`data: loading ${opts.data}`);
    dataset ??= await loadDataset(opts.data, { cacheDir: opts.cacheDir, shards: opts.shards }).catch((e: Error) => {
      throw new RunFailure('harness_error', e.message);
    });
    const ds = dataset;
    const inChild = docker ? containerPath(repoDir, candidate) : candidate;
    if (opts.isolation === 'sandbox') containerPath(repoDir, candidate); // the sandbox shows only the checkout

    // a software WebGPU adapter only ever for local runs (an official run has a job)
    const allowSoftwareGpu = !opts.job;
    // ---- train
    reporter.phase(`train: starting the candidate (${relative(repoDir, candidate) || candidate})`);
    const trainLimits: TrainLimits = {
      backendSeconds: opts.backendTimeoutSeconds ?? 180,
      graceSeconds: opts.graceSeconds ?? 2,
      graceSteps: 3,
      maxCheckpointBytes: opts.maxCheckpointBytes ?? checkpointCapBytes(opts.memoryMb ?? defaultMemoryMb()),
    };
    const limit = runDeadlineSeconds(opts.budgetSeconds, replay !== null, { ...DEFAULT_DEADLINE_LIMITS, backendSeconds: trainLimits.backendSeconds, ...opts.deadlineLimits });
    deadline = new RunDeadline(limit, `a ${replay ? 'replay' : 'run'} of a ${opts.budgetSeconds}s budget`, live);
    const trainCh = launch('train');
    try {
      trained = await runTrain(
        trainCh,
        { type: 'config', phase: 'train', candidate: inChild, seed: opts.seed, backend: opts.backend, allowSoftwareGpu, budgetSeconds: opts.budgetSeconds, warmupSteps: opts.warmupSteps },
        ds.train,
        trainLimits,
        reporter,
        log,
        replay,
        floorOf,
      );
    } finally {
      reporter.stop();
    }
    const tr = trained;
    const proof = checkpointDigest(tr.checkpoint, opts);
    digest = proof.digest;
    log(proof.logLine);
    Object.assign(timings, { backend: tr.backendSeconds, setup: tr.setupSeconds, train: tr.trainSeconds, stop: tr.stopSeconds });
    await trainCh.done;
    tamperCheck();

    // ---- eval: the scored pass, then the probe pass, each in its own fresh process
    const T = tr.contextLength;
    evalSet = candidateWindows(ds.val, opts.evalBytes, T, opts.evalSeed);
    const batchRows = opts.evalBatchRows ?? EVAL_BATCH_ROWS;
    const plan = planEval(evalSet, batchRows);
    const scorer = new EvalScorer(plan, evalSet, opts.causalTolerance ?? CAUSAL_ATOL);
    const limits = { ...DEFAULT_EVAL_LIMITS, backendSeconds: trainLimits.backendSeconds, ...opts.evalLimits };
    const evalCfg = { type: 'config', phase: 'eval', candidate: inChild, seed: opts.seed, backend: opts.backend, allowSoftwareGpu } as const;
    reporter.phase(`eval: ${evalSet.rows * T} bytes (${opts.evalSeed === null ? 'dev split' : `held-out, eval seed ${opts.evalSeed}`}) and ${plan.probes.length} probe rows`);
    const passes = [
      { phase: 'eval' as const, input: plan.scored, consume: (c: Float32Array, n: number) => scorer.scored(c, n) },
      { phase: 'probe' as const, input: plan.probe, consume: (c: Float32Array, n: number) => scorer.probe(c, n) },
    ];
    // the probe child loads its backend while the scored pass runs (after the eval child's calibration),
    // its checkpoint and the candidate's code only once the eval child is gone (trainer/eval-phase.ts)
    const running = passes.filter((p) => p.input.length > 0);
    const prepared: Promise<{ ch: ChildChannel; hello: Hello }>[] = [];
    const start = (i: number, other?: ChildChannel) => {
      prepared[i] = prepareBeside(() => launch(running[i].phase), (ch) => prepareEval(ch, evalCfg, tr, limits, other?.done), other?.done, log);
      prepared[i].catch(() => {}); // awaited below, in order
    };
    start(0);
    for (const [i, pass] of running.entries()) {
      const { ch, hello } = await prepared[i];
      if (i + 1 < running.length) start(i + 1, ch);
      if (pass.phase === 'eval') after = { workload: hello.calibration.workload, before_gflops: 0, after_gflops: hello.calibration.gflops };
      timings[pass.phase] = await runEvalPass(ch, tr, pass.input, batchRows, limits, (c, n) => {
        pass.consume(c, n);
        if (scorer.failed) ch.kill(scorer.failed.kind, scorer.failed.message);
      }, log);
      await ch.done;
      tamperCheck();
    }
    const scored = scorer.finish();
    if ('kind' in scored) throw new RunFailure(scored.kind, scored.message);
    valBpb = scored.bpb;
    causality = { probe_rows: plan.probes.length, max_logprob_diff: scored.maxProbeDiff, tolerance: opts.causalTolerance ?? CAUSAL_ATOL };
    log(`[harness] causality: ${plan.probes.length} probe rows, largest log-probability difference ${scored.maxProbeDiff.toExponential(2)} nats`);

    const changed = changedHarnessFiles(harnessBefore, readHarnessFiles(repoDir));
    if (changed.length > 0) throw new RunFailure('tamper', `the harness files under trainer/ changed during the run: ${changed.join(', ')}.`);
    if (sha256(readRegularFile(candidate, Infinity, 'the candidate')) !== candidateSha) throw new RunFailure('tamper', 'the candidate file changed during the run.');
  } catch (e) {
    if (e instanceof GivenBack) givenBack = e;
    else failure = e instanceof RunFailure ? e : new RunFailure('harness_error', (e as Error)?.stack ?? String(e));
    valBpb = null;
  } finally {
    // no child outlives its run, whatever path ended it
    deadline?.clear();
    for (const c of live) c.kill('crash', 'the run is over.');
    for (const out of await Promise.all(live.map((c) => c.done))) peakMb = Math.max(peakMb, out.peakRssMb);
  }

  // reference scores on the very bytes that were (or would have been) scored
  let refs = { unigram: 0, bigram: 0 };
  let evalBytes = 0;
  // a job given back is handed back at once: nothing was evaluated, so no references either
  if (dataset && !givenBack) {
    const set = evalSet ?? safeWindows(dataset, opts);
    if (set) {
      refs = referenceBpb(fitReference(dataset.train), set.x, set.y);
      evalBytes = set.rows * set.T;
    }
  }
  if (failure) log(`[harness] FAILED ${failure.kind}: ${failure.message}`);

  if (givenBack) log(`[harness] OFF PACE: ${givenBack.message}`);

  const tr = trained;
  const hello = tr?.hello ?? givenBack?.hello ?? null;
  const steps = tr?.steps ?? 0;
  const tokens = tr ? steps * tr.batchSize * tr.contextLength : 0;
  const calibration = tr && after ? { ...after, before_gflops: tr.hello.calibration.gflops } : hello ? { workload: hello.calibration.workload, before_gflops: hello.calibration.gflops, after_gflops: 0 } : null;
  const floor = hello ? floorOf(hello) : null;
  const preflight = hello && floor !== null ? { workload: hello.calibration.workload, gflops: hello.calibration.gflops, floor_gflops: floor } : null;
  const result: ExperimentResult = {
    schema_version: RESULT_SCHEMA_VERSION,
    harness_version: HARNESS_VERSION,
    status: failure ? 'failed' : givenBack ? 'off_pace' : 'ok',
    failure: failure ? { kind: failure.kind, message: failure.message } : null,
    val_bpb: failure || givenBack ? null : valBpb,
    unigram_bpb: refs.unigram,
    bigram_bpb: refs.bigram,
    eval_bytes: evalBytes,
    eval_split: opts.evalSeed === null ? 'dev' : 'heldout',
    dataset: dataset?.name ?? opts.data,
    steps,
    tokens,
    budget_seconds: opts.budgetSeconds,
    train_seconds: timings.train,
    total_seconds: seconds(),
    tokens_per_second: timings.train > 0 ? tokens / timings.train : 0,
    params: tr?.params ?? 0,
    backend: hello?.backend ?? 'none',
    ...(hello?.threads ? { threads: hello.threads } : {}),
    device: hello?.adapter ? describeAdapter(hello.adapter) : describeDevice(hw, hello?.gpu ?? false, hello?.note ?? ''),
    hardware_class: hello ? classOf(hello) : hardwareClass(hw, false),
    peak_memory_mb: Math.round(peakMb),
    calibration,
    ...(preflight ? { preflight } : {}),
    timings,
    causality,
    replay: replayBlock(tr && digest ? { schedule: tr.schedule, digest } : null, opts, failure ? null : valBpb),
    seed: opts.seed,
    eval_seed: opts.evalSeed,
    candidate_sha256: candidateSha,
    harness_sha256: harnessSha,
    loss_curve: sampleCurve(tr?.curve ?? []),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    job: opts.job ?? null,
  };
  const parsed = ExperimentResult.parse(result);
  log(`[harness] ${parsed.status === 'ok' ? `val_bpb ${parsed.val_bpb?.toFixed(4)}` : parsed.status === 'off_pace' ? 'given back (off pace), no score' : 'no score'} (bigram ${refs.bigram.toFixed(4)}, unigram ${refs.unigram.toFixed(4)})`);
  runLog.close();
  writeResultFile(opts.outDir, `${JSON.stringify(parsed, null, 2)}\n`);
  return parsed;
}

function safeWindows(ds: Dataset, opts: ExperimentOptions): EvalSet | null {
  try {
    // no context length from the candidate: the references then use one of 64 bytes
    return evalWindows(ds.val, opts.evalBytes, 64, opts.evalSeed);
  } catch {
    return null;
  }
}
