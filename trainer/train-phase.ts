// Training, from the supervisor's side. The clock starts when the train child's hello arrives
// (backend loaded and calibrated by harness code); importing the candidate, building the model
// and any warm-up are inside the budget. Batches are served one per request and only while
// the clock runs, so the supervisor counts the steps and fixes the shape; after the deadline
// the next request is answered with `stop`, and the checkpoint must arrive within an
// allowance derived from the measured step time.
//
// `progress`, the only clock input to training, is the supervisor's: the fraction of the budget
// its clock has spent when it serves a batch, quantized and recorded (trainer/replay-schedule.ts),
// sent with the batch. A replay serves exactly the recorded number of batches with the recorded
// progress values and no wall-clock stop; only a cap (REPLAY_CAP_FACTOR budgets) ends a replay
// on a machine too slow for it.
import type { ChildChannel } from './child-channel.js';
import { checkCheckpoint } from './checkpoint.js';
import { randInt, mulberry32 } from './data/rng.js';
import type { Reporter } from './progress.js';
import { ScheduleRecorder, ScheduleReplayer, type Schedule } from './replay-schedule.js';
import type { LossPoint } from './result.js';
import { RunFailure } from './run-failure.js';
import { REPLAY_CAP_FACTOR } from './run-deadline.js';
import type { CheckpointEntry, Hello, TrainConfig } from './worker-protocol.js';

export { REPLAY_CAP_FACTOR };
export const MAX_DIM = 1 << 16;
/** bytes of one served batch, B * (T + 1) */
export const MAX_BATCH_BYTES = 64 * 2 ** 20;

export interface TrainLimits {
  /** seconds from spawn to hello: harness code only (backend load, calibration) */
  backendSeconds: number;
  /** fixed part of the stop allowance, seconds */
  graceSeconds: number;
  /** the stop allowance adds this many median step times */
  graceSteps: number;
  maxCheckpointBytes: number;
}

export interface Trained {
  hello: Hello;
  batchSize: number;
  contextLength: number;
  /** batches served */
  steps: number;
  /** the progress values served: this run's schedule (a replay's is the one it replayed) */
  schedule: Schedule;
  curve: LossPoint[];
  /** hello -> first batch request (import, createModel, warm-up; inside the budget) */
  setupSeconds: number;
  /** spawn -> hello */
  backendSeconds: number;
  trainSeconds: number;
  /** deadline -> checkpoint received */
  stopSeconds: number;
  medianStepSeconds: number;
  entries: CheckpointEntry[];
  checkpoint: Buffer;
  params: number;
}

/** The window bytes of one batch: B windows of T+1 bytes at positions drawn by `rng`. */
export function batchWindows(data: Uint8Array, B: number, T: number, rng: () => number): Uint8Array {
  const out = new Uint8Array(B * (T + 1));
  for (let b = 0; b < B; b++) {
    const o = randInt(rng, data.length - T - 1);
    out.set(data.subarray(o, o + T + 1), b * (T + 1));
  }
  return out;
}

/**
 * The pre-flight pace check's verdict: the calibration before training was below the floor the App
 * sent for this class and workload, so the job is given back before the clock starts (the result's
 * status `off_pace`). Not a failure: the candidate never loaded.
 */
export class GivenBack extends Error {
  constructor(
    readonly preflight: { workload: string; gflops: number; floor_gflops: number },
    readonly hello: Hello,
  ) {
    super(`the calibration workload ran at ${preflight.gflops.toFixed(2)} GFLOP/s before training, below the floor of ${preflight.floor_gflops} GFLOP/s the App expects of this class: the machine is loaded or throttled, so the job is given back to run elsewhere instead of training for the whole budget.`);
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runTrain(
  ch: ChildChannel,
  cfg: TrainConfig,
  data: Uint8Array,
  limits: TrainLimits,
  reporter: Reporter,
  log: (line: string) => void,
  /** a schedule to replay; null: train on the clock */
  replay: Schedule | null = null,
  /** the pre-flight floor (GFLOP/s) for the machine the hello describes, or null for no check */
  floor: (hello: Hello) => number | null = () => null,
): Promise<Trained> {
  await ch.send(cfg);
  const hello = await ch.hello(limits.backendSeconds);
  // the pre-flight check: the calibration the hello carries was measured anyway, so it costs an
  // honest quiet run nothing; a machine below the floor stops here, before the candidate loads
  const min = floor(hello);
  if (min !== null && hello.calibration.gflops < min) {
    log(`[harness] calibration before training: ${hello.calibration.workload} ${hello.calibration.gflops.toFixed(2)} GFLOP/s, below the App's floor of ${min}: giving the job back`);
    throw new GivenBack({ workload: hello.calibration.workload, gflops: hello.calibration.gflops, floor_gflops: min }, hello);
  }
  const tClock = performance.now();
  const backendSeconds = (tClock - ch.spawnedAt) / 1000;
  const budgetMs = cfg.budgetSeconds * 1000;
  const deadline = tClock + budgetMs;
  // the last moment a batch may be served: the budget's end, or a replay's cap
  const lastServe = replay ? tClock + REPLAY_CAP_FACTOR * budgetMs : deadline;
  const since = () => (performance.now() - tClock) / 1000;
  log(`[harness] train backend ${hello.backend} (${hello.choice}) gpu=${hello.gpu} kernels=[${hello.kernels}] ${hello.note} ${hello.skipped.join('; ')}`);
  log(`[harness] calibration before training: ${hello.calibration.workload} ${hello.calibration.gflops.toFixed(2)} GFLOP/s`);
  log(replay ? `[harness] the clock starts: replaying a schedule of ${replay.steps} steps (no wall-clock stop; at most ${REPLAY_CAP_FACTOR}x the budget)` : '[harness] the clock starts');
  reporter.start(cfg.budgetSeconds);

  const rng = mulberry32(cfg.seed);
  const recorder = new ScheduleRecorder();
  const replayer = replay ? new ScheduleReplayer(replay) : null;
  const curve: LossPoint[] = [];
  const intervals: number[] = [];
  let shape: { B: number; T: number } | null = null;
  let steps = 0;
  let setupSeconds = 0;
  let lastAsk = 0;
  const allowance = () => limits.graceSeconds + limits.graceSteps * median(intervals);
  const tooSlow = () =>
    `the machine was too slow to replay this schedule: ${steps} of ${replay?.steps} steps served in ${since().toFixed(1)}s, and a replay may take at most ${REPLAY_CAP_FACTOR}x the budget of ${cfg.budgetSeconds}s (plus the stop allowance). Replay on an idle machine of the same class.`;
  for (;;) {
    const wait = Math.max(0, (lastServe - performance.now()) / 1000) + allowance();
    const late = replay ? tooSlow() : `the candidate did not stop within ${allowance().toFixed(2)}s of the end of its budget (a step in flight at the deadline must finish within ${limits.graceSeconds}s plus ${limits.graceSteps} median steps).`;
    const ask = await ch.next(['next'], wait, late);
    const t = since();
    const loss = ask.header.loss;
    if (steps > 0 && typeof loss === 'number' && Number.isFinite(loss)) {
      curve.push({ step: steps, t, loss });
      reporter.update({ elapsed: t, step: steps, loss, tokensPerSecond: t > 0 ? (steps * shape!.B * shape!.T) / t : 0 });
    }
    if (!shape) {
      const { batchSize: B, contextLength: T } = ask.header;
      for (const [k, v] of [['batchSize', B], ['contextLength', T]] as const) {
        if (!Number.isInteger(v) || v < 1 || v > MAX_DIM) throw new RunFailure('invalid_candidate', `Candidate.${k} must be an integer from 1 to ${MAX_DIM}, got ${String(v)}.`);
      }
      if (B * (T + 1) > MAX_BATCH_BYTES) throw new RunFailure('invalid_candidate', `a batch of ${B} x ${T} bytes is over the harness's ${MAX_BATCH_BYTES} bytes per step; use a smaller batchSize or contextLength.`);
      if (data.length < T + 2) throw new RunFailure('invalid_candidate', `contextLength ${T} is longer than the train split allows.`);
      shape = { B, T };
      setupSeconds = t;
      log(`[harness] train: first batch requested after ${t.toFixed(2)}s of setup, serving B=${B} T=${T}`);
    } else {
      intervals.push(t - lastAsk);
    }
    lastAsk = t;
    if (replayer ? steps >= replayer.schedule.steps : performance.now() >= deadline) break;
    if (performance.now() >= lastServe) throw new RunFailure('timeout', tooSlow());
    const progress = recorder.progress(steps, replayer ? replayer.progress(steps) : (performance.now() - tClock) / budgetMs);
    await ch.send({ type: 'batch', B: shape.B, T: shape.T, progress }, batchWindows(data, shape.B, shape.T, rng));
    steps++;
  }
  const stopAt = performance.now();
  log(replay ? `[harness] replay: all ${steps} batches served in ${since().toFixed(2)}s (budget ${cfg.budgetSeconds}s): stop` : `[harness] budget of ${cfg.budgetSeconds}s reached: stop after ${steps} batches`);
  ch.cap = limits.maxCheckpointBytes;
  ch.overCap = (bytes) => ({ kind: 'oom', message: `the candidate's checkpoint of ${bytes} bytes is over the ${ch.cap} bytes this runner takes (a quarter of a child's memory cap, at most 2 GiB); train a smaller model.` });
  await ch.send({ type: 'stop' });
  // on the clock the allowance runs from the deadline; a replay's from its last batch
  const stopLine = replay ? stopAt : deadline;
  const left = Math.max(0, (stopLine - performance.now()) / 1000) + allowance();
  // a checkpoint already on its way gets its transfer time at no less than 50 MiB/s
  const ck = await ch.next(['checkpoint'], left, `the candidate did not hand over its checkpoint within ${allowance().toFixed(2)}s of ${replay ? 'its last batch' : 'the end of its budget'} (plus its transfer).`, false, (bytes) => bytes / (50 * 2 ** 20));
  const stopSeconds = (performance.now() - stopLine) / 1000;
  // nothing more to do here: no process may go on computing after its phase
  ch.kill('crash', 'the train process is not needed after its checkpoint.');
  let params: number;
  let entries: CheckpointEntry[];
  try {
    ({ params, entries } = checkCheckpoint(ck.header.entries, ck.payload.length));
  } catch (e) {
    throw new RunFailure('invalid_candidate', (e as Error).message);
  }
  log(`[harness] checkpoint: ${params} parameters, ${stopSeconds.toFixed(2)}s after ${replay ? 'the last batch' : 'the deadline'}`);
  return {
    hello,
    batchSize: shape.B,
    contextLength: shape.T,
    steps,
    schedule: recorder.schedule(),
    curve,
    setupSeconds,
    backendSeconds,
    trainSeconds: (stopAt - tClock) / 1000,
    stopSeconds,
    medianStepSeconds: median(intervals),
    entries,
    checkpoint: ck.payload,
    params,
  };
}
