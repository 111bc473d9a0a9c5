// The train child: loads the backend and times the calibration workload (harness code, before
// any candidate code), says hello, then loads the candidate and trains on the batches the
// supervisor serves one per request, until a request is answered with `stop`; then it sends
// its checkpoint. The supervisor's clock runs from the hello: importing the candidate, building
// the model and any warm-up are inside the budget. `progress` comes with each batch from the
// supervisor (its clock, or the schedule it replays): this process reads no clock for training,
// and seeds Math.random from the run's seed before the candidate loads, so that the same seed,
// batches and progress values train the same bits (docs/trust.md, "Replays").
import { loadBackend } from './backend.js';
import { calibrate } from './calibration.js';
import { buildCandidate, CandidateError, importCandidate } from './candidate-loader.js';
import { checkpointBlob } from './checkpoint.js';
import { randomBatch } from './data/batches.js';
import { mulberry32 } from './data/rng.js';
import { kernelsTampered, snapshotKernels } from './kernels/guard.js';
import { clockTampered, snapshotClock } from './probes.js';
import { seedMathRandom } from './seeded-random.js';
import { childPort, expectFrame, runChild } from './worker-protocol.js';

/** Warm-up steps run on random bytes inside the budget, so they are capped. */
export const MAX_WARMUP_STEPS = 20;

// Captured before any candidate code runs.
const port = childPort();
const { fail, exit } = port;
const clock = snapshotClock();

async function main(): Promise<void> {
  const { header: cfg } = await expectFrame(port, 'config');
  if (cfg.phase !== 'train') return fail('harness_error', 'the train child got an eval config.');

  const be = await loadBackend(cfg.backend, { allowSoftwareGpu: cfg.allowSoftwareGpu }).catch((e: Error) => fail('harness_error', e.message));
  const tf = be.tf;
  const kernels = snapshotKernels();
  const checkKernels = () => {
    const k = kernelsTampered(kernels);
    if (k) fail('tamper', `the candidate replaced ${k}; kernels belong to the harness.`);
  };
  const calibration = await calibrate(tf, be.backend, be.adapter?.software === true);
  port.send({ type: 'hello', backend: be.backend, choice: be.choice, gpu: be.gpu, note: be.note, skipped: be.skipped, kernels: be.kernels, adapter: be.adapter, threads: be.threads, calibration });

  // before the import and before every createModel: the warm-up leaves no trace in the stream
  seedMathRandom(cfg.seed);
  const createModel = await importCandidate(cfg.candidate);
  seedMathRandom(cfg.seed);
  let model = buildCandidate(createModel, tf, cfg.seed, be.device);
  checkKernels();

  // `await data()`, not dataSync(): the webgpu backend in Node cannot read a tensor synchronously
  const step = async (x: Int32Array, y: Int32Array, B: number, T: number, progress: number): Promise<number> => {
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
    checkKernels();
    if (!Number.isFinite(value)) return fail('nan', `the training loss became ${value}.`);
    return value;
  };

  const warmup = Math.min(Math.max(0, cfg.warmupSteps), MAX_WARMUP_STEPS);
  if (warmup > 0) {
    const rng = mulberry32(cfg.seed ^ 0x3a3a3a3a);
    for (let i = 0; i < warmup; i++) {
      const b = randomBatch(model.batchSize, model.contextLength, rng);
      await step(b.x, b.y, model.batchSize, model.contextLength, 0);
    }
    // training starts from the seed's initial weights, not from the warm-up's
    tf.disposeVariables();
    seedMathRandom(cfg.seed);
    model = buildCandidate(createModel, tf, cfg.seed, be.device);
  }

  let loss: number | null = null;
  for (;;) {
    port.send({ type: 'next', batchSize: model.batchSize, contextLength: model.contextLength, loss });
    const f = await port.next();
    if (f.header.type === 'stop') break;
    if (f.header.type !== 'batch') return fail('harness_error', `expected a batch or stop frame, got "${f.header.type}".`);
    const { B, T, progress } = f.header as unknown as { B: number; T: number; progress: unknown };
    if (typeof progress !== 'number' || !(progress >= 0 && progress <= 1)) return fail('harness_error', `a batch frame's progress must be a number from 0 to 1, got ${String(progress)}.`);
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        x[b * T + t] = f.payload[b * (T + 1) + t];
        y[b * T + t] = f.payload[b * (T + 1) + t + 1];
      }
    }
    loss = await step(x, y, B, T, progress);
  }
  const { entries, blob } = await checkpointBlob(model.variables());
  port.send({ type: 'checkpoint', entries }, blob);
  exit(0);
}

runChild(main, fail);
