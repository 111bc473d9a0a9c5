// The one schema for an experiment result. The harness writes it, the Action adds the job
// block, the App validates it, the ledger records it and the leaderboard renders it.
// Every room imports it from here; nobody redefines it.
import { z } from 'zod';

export const RESULT_SCHEMA_VERSION = 1;

/** Why a run produced no score. `ok` runs have none of these. */
export const FailureKind = z.enum([
  'non_causal', // prediction at position t depended on bytes after t
  'nan', // NaN or Inf in the loss or the logits
  'timeout', // did not stop within the grace after the deadline (or eval over-ran)
  'crash', // the candidate threw, or its process died
  'oom', // exceeded the memory cap
  'tamper', // tried to change the clock, the result file, or the harness
  'invalid_candidate', // does not implement the interface (wrong shapes, missing exports)
  'harness_error', // the harness itself failed (data missing, bad arguments): not the candidate's fault
]);
export type FailureKind = z.infer<typeof FailureKind>;

export const Role = z.enum(['local', 'candidate', 'baseline', 'verify']);
export type Role = z.infer<typeof Role>;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const LossPoint = z.object({
  step: z.number().int().nonnegative(),
  /** seconds of training time since the clock started */
  t: z.number().nonnegative(),
  loss: z.number(),
});
export type LossPoint = z.infer<typeof LossPoint>;

/** Who asked for the run and where it ran: filled by the Action, absent in local runs. */
export const JobInfo = z.object({
  role: Role,
  nonce: z.string().min(8),
  repo: z.string(), // owner/name
  pr: z.number().int().positive().nullable(), // null for baseline runs of the default branch
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  run_id: z.number().int().nonnegative().nullable(),
  runner_name: z.string().nullable(),
  isolation: z.enum(['docker', 'sandbox', 'none']),
});
export type JobInfo = z.infer<typeof JobInfo>;

export const ExperimentResult = z.object({
  schema_version: z.literal(RESULT_SCHEMA_VERSION),
  harness_version: z.string(),
  /**
   * ok: scored; failed: no score (`failure` says why); off_pace: given back before training, the
   * machine's calibration below the floor the App sent (`preflight`): no score and no failure
   */
  status: z.enum(['ok', 'failed', 'off_pace']),
  failure: z.object({ kind: FailureKind, message: z.string() }).nullable(),

  /** bits per byte on the evaluated bytes; null unless status is ok */
  val_bpb: z.number().nonnegative().nullable(),
  /** reference scores on the same bytes: unigram and bigram (add-one) fitted on the train split */
  unigram_bpb: z.number().nonnegative(),
  bigram_bpb: z.number().nonnegative(),
  eval_bytes: z.number().int().nonnegative(),
  eval_split: z.enum(['dev', 'heldout']),
  dataset: z.string(), // e.g. "brown" or "fineweb-edu:<shard ids>"

  steps: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  budget_seconds: z.number().positive(),
  train_seconds: z.number().nonnegative(),
  total_seconds: z.number().nonnegative(),
  tokens_per_second: z.number().nonnegative(),
  params: z.number().int().nonnegative(),

  backend: z.string(), // the tfjs backend that really ran: tensorflow | wasm | cpu
  device: z.string(), // what it ran on, e.g. "NVIDIA H100 80GB HBM3 (CUDA)" or "CPU: AMD EPYC 7B13"
  hardware_class: z.string(), // normalized: "gpu-h100-80gb", "cpu-amd-epyc-7b13"
  peak_memory_mb: z.number().nonnegative(),
  /** threads the harness's kernels ran on (wasm and cpu backends); absent in older results */
  threads: z.number().int().positive().optional(),
  /**
   * A fixed calibration workload the supervisor times before and after training (the same work
   * on every machine), so the App can tell a loaded or throttled machine from a worse candidate.
   * Absent in results of older harnesses.
   */
  calibration: z
    .object({
      workload: z.string(), // names the fixed workload, e.g. "matmul-256x256x256x20@wasm"
      before_gflops: z.number().nonnegative(),
      after_gflops: z.number().nonnegative(),
    })
    .nullable()
    .optional(),

  /**
   * The pre-flight pace check (trainer/pace-floors.ts): the calibration before training against
   * the floor the App sent for this class and workload. Present only when the App sent one.
   */
  preflight: z
    .object({
      workload: z.string(),
      gflops: z.number().nonnegative(),
      floor_gflops: z.number().positive(),
    })
    .nullable()
    .optional(),

  /**
   * Seconds of each phase, measured by the supervisor: backend (spawn to the train child's
   * hello, harness code only), setup (candidate import, createModel and warm-up, inside the
   * budget), train, stop (the budget's end to the checkpoint received), eval and probe (the
   * forward passes of the scored and the probe pass). Absent in results of older harnesses.
   */
  timings: z
    .object({
      backend: z.number().nonnegative(),
      setup: z.number().nonnegative(),
      train: z.number().nonnegative(),
      stop: z.number(),
      eval: z.number().nonnegative(),
      probe: z.number().nonnegative(),
    })
    .nullable()
    .optional(),
  /** The causality probe: rows compared and the largest log-probability difference (nats). */
  causality: z
    .object({
      probe_rows: z.number().int().nonnegative(),
      max_logprob_diff: z.number().nonnegative(),
      tolerance: z.number().positive(),
    })
    .nullable()
    .optional(),

  /**
   * What a replay needs and what it must reproduce (docs/trust.md, "Replays"). `schedule` is the
   * run's progress schedule (trainer/replay-schedule.ts: steps and the quantized progress marks);
   * `of` is the schedule this run replayed (the workflow's `replay` input), null for a run on the
   * clock. The checkpoint's sha256 proves the training: in clear (`digest`) only when the run had
   * no seal key (local runs); otherwise only `sealed` to the App's key (trainer/seal.ts), as JSON
   * {"nonce","digest","val_bpb"}, so that nobody who reads the public artifact can copy it. Absent
   * in results of older harnesses and in failed runs that never trained.
   */
  replay: z
    .object({
      schedule: z.string().max(16384),
      of: z.string().max(16384).nullable(),
      digest: sha256.optional(),
      sealed: z.string().max(4096).optional(),
    })
    .nullable()
    .optional(),

  seed: z.number().int(),
  eval_seed: z.number().int().nullable(), // null: public dev split (local runs)
  candidate_sha256: sha256,
  harness_sha256: sha256,
  loss_curve: z.array(LossPoint),

  started_at: z.string(), // ISO 8601
  finished_at: z.string(),
  job: JobInfo.nullable(),
});
export type ExperimentResult = z.infer<typeof ExperimentResult>;

/** Parse untrusted JSON text into a result, or throw one error naming what is wrong. */
export function parseResult(text: string, source = 'result.json'): ExperimentResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message}); it must be the file the harness wrote.`);
  }
  const parsed = ExperimentResult.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `${source} does not match result schema v${RESULT_SCHEMA_VERSION}: ${first.path.join('.') || '(root)'}: ${first.message}`,
    );
  }
  const r = parsed.data;
  if (r.status === 'ok' && (r.val_bpb === null || r.failure !== null)) {
    throw new Error(`${source}: an ok result must carry val_bpb and no failure.`);
  }
  if (r.status === 'failed' && (r.val_bpb !== null || r.failure === null)) {
    throw new Error(`${source}: a failed result must carry a failure and no val_bpb.`);
  }
  const p = r.preflight;
  if (r.status === 'off_pace') {
    if (r.val_bpb !== null || r.failure !== null) throw new Error(`${source}: an off_pace result was given back before training and must carry no val_bpb and no failure.`);
    if (!p) throw new Error(`${source}: an off_pace result must carry its preflight block (the calibration and the floor it fell below).`);
    if (p.gflops >= p.floor_gflops) throw new Error(`${source}: an off_pace result's calibration ${p.gflops} GFLOP/s is not below its floor ${p.floor_gflops}; only a machine below the floor gives a job back.`);
  }
  if (p) {
    if (!r.calibration || r.calibration.workload !== p.workload || r.calibration.before_gflops !== p.gflops) {
      throw new Error(`${source}: preflight (${p.workload} at ${p.gflops} GFLOP/s) is not the calibration before training (${r.calibration ? `${r.calibration.workload} at ${r.calibration.before_gflops}` : 'none'}).`);
    }
    if (r.status === 'ok' && p.gflops < p.floor_gflops) throw new Error(`${source}: an ok result's calibration ${p.gflops} GFLOP/s is below its floor ${p.floor_gflops}; the harness gives such a job back (status off_pace) instead of training.`);
  }
  return r;
}
