// Evaluation windows. Local runs read the public dev split (the first `evalBytes` bytes of
// validation, cut into consecutive windows so every byte is scored once); official runs draw
// windows at positions chosen by an eval seed that is fixed only after the candidate is.
import { randInt, mulberry32 } from './rng.js';

export interface EvalSet {
  T: number;
  rows: number;
  x: Uint8Array; // [rows, T] inputs
  y: Uint8Array; // [rows, T] the byte after each input position: what is scored
}

function windowsAt(data: Uint8Array, starts: number[], T: number): EvalSet {
  const rows = starts.length;
  const x = new Uint8Array(rows * T);
  const y = new Uint8Array(rows * T);
  starts.forEach((s, r) => {
    x.set(data.subarray(s, s + T), r * T);
    y.set(data.subarray(s + 1, s + T + 1), r * T);
  });
  return { T, rows, x, y };
}

function checkSize(data: Uint8Array, evalBytes: number, T: number): void {
  if (!Number.isInteger(T) || T < 1) throw new Error(`context length must be a positive integer, got ${T}.`);
  if (evalBytes < T || data.length < T + 1) {
    throw new Error(`cannot evaluate ${evalBytes} bytes with context ${T} on a split of ${data.length} bytes; raise --eval-bytes.`);
  }
}

/** Consecutive windows over the first `evalBytes` bytes of the dev split. */
/** The evaluation windows of context length T: the dev split's (no eval seed: local runs) or held-out ones the eval seed draws. */
export function evalWindows(val: Uint8Array, evalBytes: number, T: number, evalSeed: number | null): EvalSet {
  return evalSeed === null ? devWindows(val, evalBytes, T) : heldoutWindows(val, evalBytes, T, evalSeed);
}

export function devWindows(val: Uint8Array, evalBytes: number, T: number): EvalSet {
  checkSize(val, evalBytes, T);
  const n = Math.min(evalBytes, val.length);
  const starts: number[] = [];
  for (let s = 0; s + T + 1 <= n; s += T) starts.push(s);
  return windowsAt(val, starts, T);
}

/** floor(evalBytes / T) windows at positions drawn by `seed` from the held-out split. */
export function heldoutWindows(val: Uint8Array, evalBytes: number, T: number, seed: number): EvalSet {
  checkSize(val, evalBytes, T);
  const rng = mulberry32(seed ^ 0x5eed);
  const starts: number[] = [];
  for (let r = 0; r < Math.floor(evalBytes / T); r++) starts.push(randInt(rng, val.length - T));
  return windowsAt(val, starts, T);
}
