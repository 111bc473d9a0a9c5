// The checkpoint the train child hands the supervisor and the supervisor hands each eval
// child: names and shapes in the frame header, one float32 blob as its payload, never a file.
// Evaluation builds a fresh model from the same seed and assigns these values back, so a
// candidate carries nothing into evaluation except its trained tensors. The supervisor counts
// the parameters from what it received (a fact it measures, not one the candidate states).
import type * as tfc from '@tensorflow/tfjs-core';
import type { TF } from './candidate-api.js';
import type { CheckpointEntry } from './worker-protocol.js';

const MAX_ENTRIES = 100_000;

/** The largest checkpoint a runner takes: a quarter of a child's memory cap (an eval child
 * holds the checkpoint it is sent, the copy it assigns and the model's variables), at most
 * 2 GiB (~500M parameters, far past what a budget trains). The supervisor has no memory cap of
 * its own: a candidate must not be able to make it run out (no result, a re-run elsewhere). */
export function checkpointCapBytes(childMemoryMb: number): number {
  return Math.min(2 ** 31, Math.floor((childMemoryMb * 2 ** 20) / 4));
}
const MAX_RANK = 8;
const NAME = /^[\x20-\x7e]{1,200}$/;

export async function checkpointBlob(vars: Record<string, tfc.Variable>): Promise<{ entries: CheckpointEntry[]; blob: Uint8Array }> {
  const entries: CheckpointEntry[] = [];
  const chunks: Float32Array[] = [];
  let total = 0;
  for (const name of Object.keys(vars).sort()) {
    const v = vars[name];
    if (v.dtype !== 'float32') throw new Error(`variable ${name} has dtype ${v.dtype}; checkpoints hold float32 only.`);
    const data = (await v.data()) as Float32Array;
    entries.push({ name, shape: v.shape });
    chunks.push(data);
    total += data.length;
  }
  const blob = new Float32Array(total);
  let o = 0;
  for (const c of chunks) {
    blob.set(c, o);
    o += c.length;
  }
  return { entries, blob: new Uint8Array(blob.buffer) };
}

/** Checks a checkpoint from the train child; returns its parameter count and its entries, rebuilt
 * from the checked name and shape alone (whatever else the child put in them is dropped, never
 * forwarded to the eval children: the variables are the only way from training to evaluation),
 * or throws a sentence. */
export function checkCheckpoint(entries: unknown, payloadBytes: number): { params: number; entries: CheckpointEntry[] } {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
    throw new Error(`the checkpoint must list 1 to ${MAX_ENTRIES} variables; variables() returned ${Array.isArray(entries) ? entries.length : 'no list'}.`);
  }
  const seen = new Set<string>();
  const checked: CheckpointEntry[] = [];
  let floats = 0;
  for (const e of entries as { name?: unknown; shape?: unknown }[]) {
    if (typeof e?.name !== 'string' || !NAME.test(e.name) || seen.has(e.name)) {
      throw new Error(`checkpoint variable names must be distinct printable names of up to 200 characters; got ${JSON.stringify(e?.name)?.slice(0, 80)}.`);
    }
    seen.add(e.name);
    if (!Array.isArray(e.shape) || e.shape.length > MAX_RANK || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`checkpoint variable ${e.name} has shape ${JSON.stringify(e.shape)?.slice(0, 80)}; a shape is up to ${MAX_RANK} non-negative integers.`);
    }
    floats += (e.shape as number[]).reduce((a, b) => a * b, 1);
    checked.push({ name: e.name, shape: [...(e.shape as number[])] });
  }
  if (floats * 4 !== payloadBytes) throw new Error(`the checkpoint's shapes hold ${floats} floats but it carried ${payloadBytes} bytes.`);
  return { params: floats, entries: checked };
}

/** Assign a checkpoint to a fresh model's variables; names and shapes must match exactly. */
export function loadCheckpoint(entries: CheckpointEntry[], payload: Uint8Array, tf: TF, vars: Record<string, tfc.Variable>): void {
  const blob = new Float32Array(payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength)); // aligned copy
  const names = Object.keys(vars).sort();
  const saved = entries.map((e) => e.name);
  if (names.join('\n') !== saved.join('\n')) {
    throw new Error(`the model's variables (${names.join(', ')}) differ from the checkpoint's (${saved.join(', ')}); variables() must return the same names on every createModel call.`);
  }
  let offset = 0;
  for (const e of entries) {
    const v = vars[e.name];
    if (v.shape.join('x') !== e.shape.join('x')) {
      throw new Error(`variable ${e.name} has shape [${v.shape}] but the checkpoint holds [${e.shape}].`);
    }
    const size = e.shape.reduce((a, b) => a * b, 1);
    tf.tidy(() => v.assign(tf.tensor(blob.slice(offset, offset + size), e.shape, 'float32')));
    offset += size;
  }
}

export function parameterCount(vars: Record<string, tfc.Variable>): number {
  return Object.values(vars).reduce((n, v) => n + v.size, 0);
}
