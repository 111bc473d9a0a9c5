// The eval child: rebuilds the model from the seed, assigns the checkpoint, and writes raw
// logits for the rows the supervisor prepared. It never sees targets beyond its inputs, and
// never computes a score: the supervisor does that from the logits file.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from './backend.js';
import { buildCandidate, importCandidate } from './candidate-loader.js';
import { loadCheckpoint, parameterCount } from './checkpoint.js';
import { VOCAB } from './bpb.js';
import { childChannel, CONFIG_FILE, runChild, EVAL_INPUT_FILE, LOGITS_FILE, type EvalConfig, type EvalPlan, GO_FILE, waitForFile } from './worker-protocol.js';

const { send, fail, exit } = childChannel();

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(join(process.argv[2], CONFIG_FILE), 'utf8')) as EvalConfig;

  const be = await loadBackend(cfg.backend, { allowSoftwareGpu: cfg.allowSoftwareGpu }).catch((e: Error) => fail('harness_error', e.message));
  const tf = be.tf;
  send({ type: 'backend', backend: be.backend, choice: be.choice, gpu: be.gpu, note: be.note, skipped: be.skipped, kernels: be.kernels, adapter: be.adapter });

  // set up while the train child sets up, then wait for training to end
  const model = buildCandidate(await importCandidate(cfg.candidate), tf, cfg.seed);
  send({ type: 'ready', contextLength: model.contextLength, batchSize: model.batchSize, params: parameterCount(model.variables()) });
  await waitForFile(join(cfg.workDir, GO_FILE), 20);
  const plan = JSON.parse(readFileSync(join(cfg.workDir, GO_FILE), 'utf8')) as EvalPlan;
  const T = plan.contextLength;
  const input = new Uint8Array(readFileSync(join(cfg.workDir, EVAL_INPUT_FILE)));
  if (input.length !== plan.rows * T) return fail('harness_error', `eval input has ${input.length} bytes, expected ${plan.rows * T}.`);
  if (model.contextLength !== T) {
    return fail('invalid_candidate', `contextLength is ${model.contextLength} at evaluation but was ${T} in training; it must not change.`);
  }
  try {
    loadCheckpoint(cfg.workDir, tf, model.variables());
  } catch (e) {
    return fail('invalid_candidate', `loading the checkpoint failed: ${(e as Error).message}`);
  }

  const out = openSync(join(cfg.workDir, LOGITS_FILE), 'w');
  for (let r = 0; r < plan.rows; r += plan.batchRows) {
    const n = Math.min(plan.batchRows, plan.rows - r);
    const x = tf.tensor2d(Int32Array.from(input.subarray(r * T, (r + n) * T)), [n, T], 'int32');
    let logits;
    try {
      logits = model.logits(x);
    } catch (e) {
      return fail('crash', `logits threw: ${(e as Error)?.stack ?? String(e)}`);
    } finally {
      x.dispose();
    }
    if (!logits || !Array.isArray(logits.shape) || logits.shape.join(',') !== `${n},${T},${VOCAB}`) {
      return fail('invalid_candidate', `logits must return shape [${n}, ${T}, ${VOCAB}], got [${logits?.shape ?? 'nothing'}].`);
    }
    const data = Float32Array.from(await logits.data());
    logits.dispose();
    writeSync(out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    send({ type: 'eval_progress', rows: r + n });
  }
  closeSync(out);
  send({ type: 'eval_done', rows: plan.rows });
  exit(0);
}

runChild(main, fail);
