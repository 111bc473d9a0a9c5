// Evaluation, from the supervisor's side: one pass in one fresh eval child. The child gets
// the checkpoint, then one batch of rows at a time, the next only after it answered the one
// before; nothing of the evaluation text exists anywhere else. Every step is bounded by
// limits derived from what training measured: setup by the train child's own setup time,
// the forward passes by its median step time (a forward pass is cheaper than a step).
import { VOCAB } from './bpb.js';
import { evalWindows, type EvalSet } from './data/windows.js';
import type { ChildChannel } from './child-channel.js';
import { RunFailure } from './run-failure.js';
import type { Trained } from './train-phase.js';
import type { EvalConfig, Hello } from './worker-protocol.js';

export interface EvalLimits {
  /** spawn -> hello (harness code only) */
  backendSeconds: number;
  /**
   * hello -> ready: this plus `setupFactor` x the train child's measured setup (plus the checkpoint's
   * transfer). The default factor is 1: an eval process builds its model in no more time than
   * training paid for it from its budget; at 2, setup stalled in training bought twice itself in
   * each eval process, off the clock (test/trainer/attacks.test.ts, "setup stalled in training").
   */
  setupFloorSeconds: number;
  setupFactor: number;
  /** all forward passes of a pass: this plus `stepFactor` median train steps per B rows */
  passFloorSeconds: number;
  stepFactor: number;
}

/** Logits travel at no less than this many bytes per second, on any machine. */
const LOGITS_BYTES_PER_SECOND = 20 * 2 ** 20;

/** Seconds the child may spend on a pass of `rows` rows (its own time: from each batch sent to
 * its logits received, not the supervisor's scoring in between). */
export function passAllowance(limits: EvalLimits, trained: Pick<Trained, 'medianStepSeconds' | 'batchSize' | 'contextLength'>, rows: number): number {
  const transfer = (rows * trained.contextLength * VOCAB * 4) / LOGITS_BYTES_PER_SECOND;
  return limits.passFloorSeconds + limits.stepFactor * trained.medianStepSeconds * Math.ceil(rows / trained.batchSize) + transfer;
}

/** The windows the candidate is evaluated on; T is its choice, so windows it does not fit are its fault, not the runner's. */
export function candidateWindows(val: Uint8Array, evalBytes: number, T: number, evalSeed: number | null): EvalSet {
  try {
    return evalWindows(val, evalBytes, T, evalSeed);
  } catch (e) {
    throw new RunFailure('invalid_candidate', `contextLength ${T} is longer than the evaluation allows: ${(e as Error).message}`);
  }
}

/** The checkpoint travels to an eval child at no less than this many bytes per second. */
const CHECKPOINT_BYTES_PER_SECOND = 50 * 2 ** 20;

/**
 * Config, hello, checkpoint, ready: the child is set up and waits for rows. `after`: the other
 * eval child's end. A child may start (harness code: backend, calibration, hello) while the other
 * runs, but it loads no candidate code before its checkpoint, and that is sent only once the other
 * is gone: two children running candidate code at once can talk through anything they share (a
 * lock on a file both read), and a scored child that handed the probe child its windows let a
 * look-ahead pass the probe (test/trainer/red-team-siblings.test.ts).
 */
export async function prepareEval(ch: ChildChannel, cfg: EvalConfig, trained: Trained, limits: EvalLimits, after?: Promise<unknown>): Promise<Hello> {
  await ch.send(cfg);
  const hello = await ch.hello(limits.backendSeconds);
  if (hello.backend !== trained.hello.backend || hello.gpu !== trained.hello.gpu) {
    throw new RunFailure('harness_error', `the ${ch.phase} process got backend ${hello.backend} (gpu ${hello.gpu}) but training ran on ${trained.hello.backend} (gpu ${trained.hello.gpu}); pass --backend explicitly.`);
  }
  await after;
  // the setup clock runs from the checkpoint's send: the child reads it before it imports the
  // candidate, so a child busy in createModel cannot hold the send up off the clock
  const sentAt = performance.now();
  await ch.send({ type: 'checkpoint', entries: trained.entries }, trained.checkpoint);
  const setup = limits.setupFloorSeconds + limits.setupFactor * trained.setupSeconds + trained.checkpoint.length / CHECKPOINT_BYTES_PER_SECOND;
  const left = Math.max(0, setup - (performance.now() - sentAt) / 1000);
  const ready = await ch.next(['ready'], left, `the ${ch.phase} process took longer than ${setup.toFixed(1)}s to build the model and load the checkpoint (training's setup took ${trained.setupSeconds.toFixed(1)}s).`);
  if (ready.header.contextLength !== trained.contextLength) {
    throw new RunFailure('invalid_candidate', `contextLength is ${ready.header.contextLength} at evaluation but was ${trained.contextLength} in training; it must not change.`);
  }
  return hello;
}

/**
 * Launches and prepares one eval child; `other`: the end of the child that runs candidate code
 * beside this one's preparation. A harness error there (its backend did not load, or differs from
 * training's: the other took the GPU's memory and this one fell back) may be the candidate's
 * doing, and a harness_error result is re-run elsewhere: a free re-roll for a candidate that saw
 * its scored bytes going badly. So that child is killed and prepared once more, in a fresh
 * process, once the other is gone; only a second harness error stands (test/trainer/eval-retry.test.ts).
 * Only harness code has run in it by then: a child's harness_error claim after its hello is its crash.
 */
export async function prepareBeside<C extends { phase: string; kill: ChildChannel['kill']; done: Promise<unknown> }, H>(
  launch: () => C,
  prepare: (ch: C) => Promise<H>,
  other: Promise<unknown> | undefined,
  log: (line: string) => void,
): Promise<{ ch: C; hello: H }> {
  const first = launch();
  try {
    return { ch: first, hello: await prepare(first) };
  } catch (e) {
    if (!other || !(e instanceof RunFailure) || e.kind !== 'harness_error') throw e;
    first.kill('harness_error', e.message);
    await Promise.all([first.done, other]);
    log(`[harness] ${first.phase}: ${e.message} (prepared beside candidate code: prepared again now that the other process is gone)`);
    const again = launch();
    return { ch: again, hello: await prepare(again) };
  }
}

/** One pass over `input` ([rows, T] bytes) in a prepared child; returns the child's seconds. */
export async function runEvalPass(
  ch: ChildChannel,
  trained: Trained,
  input: Uint8Array,
  batchRows: number,
  limits: EvalLimits,
  onLogits: (chunk: Float32Array, n: number) => void,
  log: (line: string) => void,
): Promise<number> {
  const T = trained.contextLength;
  const rows = input.length / T;
  const allowed = passAllowance(limits, trained, rows);
  const late = `the ${ch.phase} forward passes took longer than ${allowed.toFixed(1)}s for ${rows} rows (${limits.stepFactor} median training steps per ${trained.batchSize} rows, plus ${limits.passFloorSeconds}s and the logits' transfer): evaluation is forward passes only.`;
  let used = 0;
  for (let r = 0; r < rows; r += batchRows) {
    const n = Math.min(batchRows, rows - r);
    ch.cap = n * T * VOCAB * 4;
    const sent = performance.now();
    await ch.send({ type: 'rows', n, T }, input.subarray(r * T, (r + n) * T));
    const got = await ch.next(['logits'], Math.max(0, allowed - used), late);
    used += (performance.now() - sent) / 1000;
    if (got.header.n !== n || got.payload.length !== ch.cap) {
      throw new RunFailure('invalid_candidate', `the ${ch.phase} process answered ${n} rows with ${got.payload.length} bytes of logits; expected [${n}, ${T}, ${VOCAB}] float32.`);
    }
    const p = got.payload;
    const chunk = p.byteOffset % 4 === 0 ? new Float32Array(p.buffer, p.byteOffset, p.length / 4) : new Float32Array(new Uint8Array(p).buffer);
    onLogits(chunk, n);
  }
  const seconds = used;
  await ch.send({ type: 'end' });
  ch.kill('crash', `the ${ch.phase} process is not needed after its pass.`);
  log(`[harness] ${ch.phase}: ${rows} rows in ${seconds.toFixed(2)}s of the child's time (allowed ${allowed.toFixed(1)}s)`);
  return seconds;
}
