// An eval child: loads the backend and times the calibration workload (harness code), says
// hello, waits for the checkpoint, then rebuilds the model from the seed, assigns it, and answers
// each batch of rows with raw logits. It sees one batch at a time, only after it answered the
// one before; it never sees targets beyond its inputs and never computes a score.
import { loadBackend } from './backend.js';
import { calibrate } from './calibration.js';
import { buildCandidate, importCandidate } from './candidate-loader.js';
import { loadCheckpoint } from './checkpoint.js';
import { kernelsTampered, snapshotKernels } from './kernels/guard.js';
import { VOCAB } from './bpb.js';
import { seedMathRandom } from './seeded-random.js';
import { childPort, expectFrame, runChild } from './worker-protocol.js';

const port = childPort();
const { fail, exit } = port;

async function main(): Promise<void> {
  const { header: cfg } = await expectFrame(port, 'config');
  if (cfg.phase !== 'eval') return fail('harness_error', 'the eval child got a train config.');
  const be = await loadBackend(cfg.backend, { allowSoftwareGpu: cfg.allowSoftwareGpu }).catch((e: Error) => fail('harness_error', e.message));
  const tf = be.tf;
  const kernels = snapshotKernels();
  const checkKernels = () => {
    const k = kernelsTampered(kernels);
    if (k) fail('tamper', `the candidate replaced ${k}; kernels belong to the harness.`);
  };
  const calibration = await calibrate(tf, be.backend, be.adapter?.software === true);
  port.send({ type: 'hello', backend: be.backend, choice: be.choice, gpu: be.gpu, note: be.note, skipped: be.skipped, kernels: be.kernels, adapter: be.adapter, threads: be.threads, calibration });

  // no candidate code before the checkpoint: the supervisor sends it only once the other eval
  // child is gone, so that the two never run candidate code at the same time (trainer/eval-phase.ts)
  const ckpt = await expectFrame(port, 'checkpoint');
  // as in training (trainer/seeded-random.ts): a candidate's random ops draw the same numbers in every run
  seedMathRandom(cfg.seed);
  const createModel = await importCandidate(cfg.candidate);
  seedMathRandom(cfg.seed);
  const model = buildCandidate(createModel, tf, cfg.seed, be.device);
  checkKernels();
  try {
    loadCheckpoint(ckpt.header.entries, ckpt.payload, tf, model.variables());
  } catch (e) {
    return fail('invalid_candidate', `loading the checkpoint failed: ${(e as Error).message}`);
  }
  port.send({ type: 'ready', contextLength: model.contextLength });

  for (;;) {
    const f = await port.next();
    if (f.header.type === 'end') break;
    if (f.header.type !== 'rows') return fail('harness_error', `expected a rows or end frame, got "${f.header.type}".`);
    const { n, T } = f.header as unknown as { n: number; T: number };
    const x = tf.tensor2d(Int32Array.from(f.payload), [n, T], 'int32');
    let logits;
    try {
      logits = model.logits(x);
    } catch (e) {
      return fail('crash', `logits threw: ${(e as Error)?.stack ?? String(e)}`);
    } finally {
      x.dispose();
    }
    checkKernels();
    if (!logits || !Array.isArray(logits.shape) || logits.shape.join(',') !== `${n},${T},${VOCAB}`) {
      return fail('invalid_candidate', `logits must return shape [${n}, ${T}, ${VOCAB}], got [${logits?.shape ?? 'nothing'}].`);
    }
    const data = Float32Array.from(await logits.data());
    logits.dispose();
    port.send({ type: 'logits', n }, new Uint8Array(data.buffer));
  }
  exit(0);
}

runChild(main, fail);
