// The train child: loads the backend, then the candidate, trains on harness-drawn batches
// until the supervisor's stop file appears, and saves a checkpoint. The clock that matters
// is the supervisor's; this process only reads its own for the schedule's `progress`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from './backend.js';
import { buildCandidate, CandidateError, importCandidate } from './candidate-loader.js';
import { parameterCount, saveCheckpoint } from './checkpoint.js';
import { randomBatch, sampleBatch } from './data/batches.js';
import { mulberry32 } from './data/rng.js';
import { clockTampered, snapshotClock } from './probes.js';
import { childChannel, CONFIG_FILE, runChild, START_FILE, STOP_FILE, waitForFile, type TrainConfig } from './worker-protocol.js';

/** Warm-up steps are untimed, so they are capped. */
export const MAX_WARMUP_STEPS = 20;
const FIRST_STEPS_REPORTED = 20;
const REPORT_EVERY_S = 0.25;

// Captured before any candidate code runs.
const { send, fail, exit } = childChannel();
const clock = snapshotClock();
const now = performance.now.bind(performance);

async function main(): Promise<void> {
  const workDir = process.argv[2];
  const cfg = JSON.parse(readFileSync(join(workDir, CONFIG_FILE), 'utf8')) as TrainConfig;
  const stopFile = join(cfg.workDir, STOP_FILE);
  const data = new Uint8Array(readFileSync(cfg.trainData));

  const be = await loadBackend(cfg.backend, { allowSoftwareGpu: cfg.allowSoftwareGpu }).catch((e: Error) => fail('harness_error', e.message));
  const tf = be.tf;
  send({ type: 'backend', backend: be.backend, choice: be.choice, gpu: be.gpu, note: be.note, skipped: be.skipped, kernels: be.kernels, adapter: be.adapter });

  const createModel = await importCandidate(cfg.candidate);
  let model = buildCandidate(createModel, tf, cfg.seed);

  // `await data()`, not dataSync(): the webgpu backend in Node cannot read a tensor synchronously
  const step = async (x: Int32Array, y: Int32Array, progress: number): Promise<number> => {
    const B = model.batchSize;
    const T = model.contextLength;
    const xt = tf.tensor2d(x, [B, T], 'int32');
    const yt = tf.tensor2d(y, [B, T], 'int32');
    let loss;
    try {
      loss = model.trainStep(xt, yt, progress);
    } catch (e) {
      throw new CandidateError('crash', `trainStep threw: ${(e as Error)?.stack ?? String(e)}`);
    } finally {
      xt.dispose();
      yt.dispose();
    }
    if (!loss || typeof (loss as { dataSync?: unknown }).dataSync !== 'function' || loss.size !== 1) {
      throw new CandidateError('invalid_candidate', 'trainStep must return the loss as a scalar tensor.');
    }
    const value = (await loss.data())[0];
    loss.dispose();
    const tampered = clockTampered(clock);
    if (tampered) return fail('tamper', `the candidate replaced ${tampered}; the clock belongs to the harness.`);
    if (!Number.isFinite(value)) return fail('nan', `the training loss became ${value}.`);
    return value;
  };

  const warmup = Math.min(Math.max(0, cfg.warmupSteps), MAX_WARMUP_STEPS);
  if (warmup > 0) {
    const rng = mulberry32(cfg.seed ^ 0x3a3a3a3a);
    for (let i = 0; i < warmup; i++) {
      const b = randomBatch(model.batchSize, model.contextLength, rng);
      await step(b.x, b.y, 0);
    }
    // training starts from the seed's initial weights, not from the warm-up's
    tf.disposeVariables();
    model = buildCandidate(createModel, tf, cfg.seed);
  }

  const vars = model.variables();
  send({ type: 'ready', contextLength: model.contextLength, batchSize: model.batchSize, params: parameterCount(vars) });
  await waitForFile(join(cfg.workDir, START_FILE), 2);

  const rng = mulberry32(cfg.seed);
  const t0 = now();
  let last = -Infinity;
  let steps = 0;
  while (!existsSync(stopFile)) {
    const elapsed = (now() - t0) / 1000;
    const b = sampleBatch(data, model.batchSize, model.contextLength, rng);
    const loss = await step(b.x, b.y, Math.min(1, elapsed / cfg.budgetSeconds));
    steps++;
    const t = (now() - t0) / 1000;
    if (steps <= FIRST_STEPS_REPORTED || t - last >= REPORT_EVERY_S) {
      send({ type: 'step', step: steps, t, loss });
      last = t;
    }
  }
  await saveCheckpoint(cfg.workDir, model.variables());
  send({ type: 'stopped', steps });
  exit(0);
}

runChild(main, fail);
