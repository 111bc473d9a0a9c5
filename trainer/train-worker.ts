// The train child: loads the backend and times the calibration workload (harness code, before
// any candidate code), says hello, then loads the candidate and trains on the batches the
// supervisor serves one per request, until a request is answered with `stop`; then it sends
// its checkpoint. The supervisor's clock runs from the hello: importing the candidate, building
// the model and any warm-up are inside the budget. This process only reads its own clock for
// the schedule's `progress`.
import { loadBackend } from './backend.js';
import { calibrate } from './calibration.js';
import { buildCandidate, CandidateError, importCandidate } from './candidate-loader.js';
import { checkpointBlob } from './checkpoint.js';
import { randomBatch } from './data/batches.js';
import { mulberry32 } from './data/rng.js';
import { clockTampered, snapshotClock } from './probes.js';
import { childPort, expectFrame, runChild } from './worker-protocol.js';

/** Warm-up steps run on random bytes inside the budget, so they are capped. */
export const MAX_WARMUP_STEPS = 20;

// Captured before any candidate code runs.
const port = childPort();
const { fail, exit } = port;
const clock = snapshotClock();
const now = performance.now.bind(performance);

async function main(): Promise<void> {
  const { header: cfg } = await expectFrame(port, 'config');
  if (cfg.phase !== 'train') return fail('harness_error', 'the train child got an eval config.');

  const be = await loadBackend(cfg.backend, { allowSoftwareGpu: cfg.allowSoftwareGpu }).catch((e: Error) => fail('harness_error', e.message));
  const tf = be.tf;
  const calibration = await calibrate(tf, be.backend);
  port.send({ type: 'hello', backend: be.backend, choice: be.choice, gpu: be.gpu, note: be.note, skipped: be.skipped, kernels: be.kernels, adapter: be.adapter, calibration });
  const t0 = now(); // the supervisor's clock started when it read the hello

  const createModel = await importCandidate(cfg.candidate);
  let model = buildCandidate(createModel, tf, cfg.seed);

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
    model = buildCandidate(createModel, tf, cfg.seed);
  }

  let loss: number | null = null;
  for (;;) {
    port.send({ type: 'next', batchSize: model.batchSize, contextLength: model.contextLength, loss });
    const f = await port.next();
    if (f.header.type === 'stop') break;
    if (f.header.type !== 'batch') return fail('harness_error', `expected a batch or stop frame, got "${f.header.type}".`);
    const { B, T } = f.header as unknown as { B: number; T: number };
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        x[b * T + t] = f.payload[b * (T + 1) + t];
        y[b * T + t] = f.payload[b * (T + 1) + t + 1];
      }
    }
    loss = await step(x, y, B, T, Math.min(1, (now() - t0) / 1000 / cfg.budgetSeconds));
  }
  const { entries, blob } = await checkpointBlob(model.variables());
  port.send({ type: 'checkpoint', entries }, blob);
  exit(0);
}

runChild(main, fail);
