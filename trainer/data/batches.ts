// Training batches: B random windows of T+1 bytes from the train split, drawn by the harness's
// seeded generator (the candidate chooses B and T, never which bytes it sees).
import { randInt, type Rng } from './rng.js';

export interface Batch {
  x: Int32Array; // [B, T]
  y: Int32Array; // [B, T], x shifted by one byte
}

export function sampleBatch(data: Uint8Array, batchSize: number, contextLength: number, rng: Rng): Batch {
  const T = contextLength;
  if (data.length < T + 2) throw new Error(`train split has ${data.length} bytes, too few for context ${T}.`);
  const x = new Int32Array(batchSize * T);
  const y = new Int32Array(batchSize * T);
  for (let b = 0; b < batchSize; b++) {
    const o = randInt(rng, data.length - T - 1);
    for (let t = 0; t < T; t++) {
      x[b * T + t] = data[o + t];
      y[b * T + t] = data[o + t + 1];
    }
  }
  return { x, y };
}

/** Uniform random tokens, for the untimed warm-up (it must not see real data). */
export function randomBatch(batchSize: number, contextLength: number, rng: Rng): Batch {
  const n = batchSize * contextLength;
  const x = new Int32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = randInt(rng, 256);
    y[i] = randInt(rng, 256);
  }
  return { x, y };
}
