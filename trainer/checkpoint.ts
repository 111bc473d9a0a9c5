// The checkpoint the train child leaves for the eval child: a JSON manifest and one float32
// blob. Evaluation builds a fresh model from the same seed and assigns these values back,
// so a candidate cannot carry anything into evaluation except its trained tensors.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import type { TF } from './candidate-api.js';

export const CHECKPOINT_MANIFEST = 'checkpoint.json';
export const CHECKPOINT_DATA = 'checkpoint.bin';

interface Entry {
  name: string;
  shape: number[];
  offset: number; // in float32 elements
  size: number;
}

export async function saveCheckpoint(dir: string, vars: Record<string, tfc.Variable>): Promise<number> {
  const entries: Entry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const name of Object.keys(vars).sort()) {
    const v = vars[name];
    if (v.dtype !== 'float32') throw new Error(`variable ${name} has dtype ${v.dtype}; checkpoints hold float32 only.`);
    const data = (await v.data()) as Float32Array;
    entries.push({ name, shape: v.shape, offset, size: data.length });
    chunks.push(data);
    offset += data.length;
  }
  const blob = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    blob.set(c, o);
    o += c.length;
  }
  writeFileSync(join(dir, CHECKPOINT_DATA), Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
  writeFileSync(join(dir, CHECKPOINT_MANIFEST), JSON.stringify(entries));
  return offset;
}

/** Assign a checkpoint to a fresh model's variables; names and shapes must match exactly. */
export function loadCheckpoint(dir: string, tf: TF, vars: Record<string, tfc.Variable>): void {
  const entries = JSON.parse(readFileSync(join(dir, CHECKPOINT_MANIFEST), 'utf8')) as Entry[];
  const buf = readFileSync(join(dir, CHECKPOINT_DATA));
  const blob = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)); // aligned copy
  const names = Object.keys(vars).sort();
  const saved = entries.map((e) => e.name);
  if (names.join('\n') !== saved.join('\n')) {
    throw new Error(`the model's variables (${names.join(', ')}) differ from the checkpoint's (${saved.join(', ')}); variables() must return the same names on every createModel call.`);
  }
  for (const e of entries) {
    const v = vars[e.name];
    if (v.shape.join('x') !== e.shape.join('x')) {
      throw new Error(`variable ${e.name} has shape [${v.shape}] but the checkpoint holds [${e.shape}].`);
    }
    tf.tidy(() => v.assign(tf.tensor(blob.slice(e.offset, e.offset + e.size), e.shape, 'float32')));
  }
}

export function parameterCount(vars: Record<string, tfc.Variable>): number {
  return Object.values(vars).reduce((n, v) => n + v.size, 0);
}
