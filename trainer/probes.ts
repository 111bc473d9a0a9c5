// Probes the harness runs on every candidate.
//
// Causality. Evaluation runs in two separate processes from the same checkpoint: the scored
// pass sees only real windows (in a shuffled order); the probe pass sees only probe rows. A
// probe row is a real window kept up to a cut position t, followed by real text from another
// window (so it looks like any other row, with no random-byte tail). There is one probe for
// every cut point 0..T-1 (at T-1 the whole window, unchanged), each on a different window, so
// a leak at any single position is caught in every run. The harness compares log-probabilities (its own log-softmax, so a
// constant shift of the logits buys nothing) at the positions up to the cut with an absolute
// tolerance. The probe process never sees the original window, so it cannot answer from it;
// whatever the scored pass computed at positions <= t from bytes after t (or from other rows
// of its batch, or from windows it saw before) shows up as a difference.
//
// Clock: the train child snapshots the clock functions before it loads the candidate and
// checks them after every step; a candidate that replaces them is reported as tampering.
import { randomInt } from 'node:crypto';
import type { EvalSet } from './data/windows.js';
import { VOCAB } from './bpb.js';

/** Largest allowed difference of a log-probability (nats) between the scored and the probe
 * pass. Both passes use the same batch shape, so an honest model differs by float noise only
 * (measured: see docs/harness.md). A cheat can move a scored log-probability by at most this,
 * i.e. gain at most CAUSAL_ATOL / ln 2 = 0.0014 bits per byte. */
export const CAUSAL_ATOL = 1e-3;
/** Positions compared per probe: the last ones up to its cut (the cut itself always). */
export const COMPARED_POSITIONS = 32;

export interface Probe {
  /** the real row (evaluation window) it copies up to `cut` */
  original: number;
  /** positions 0..cut are the original's; cut+1.. come from another window (none at T-1) */
  cut: number;
  /** first compared position */
  from: number;
}

export interface EvalPlan {
  T: number;
  batchRows: number;
  /** the scored pass: [scoredRows, T] bytes, a multiple of batchRows rows */
  scored: Uint8Array;
  scoredRows: number;
  /** real row of each scored-pass row, or -1 for padding (not scored) */
  realOf: Int32Array;
  /** the probe pass: [probes.length, T] bytes, a multiple of batchRows rows */
  probe: Uint8Array;
  probes: Probe[];
}

type Random = (n: number) => number;

function shuffle<T>(xs: T[], random: Random): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = random(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** Both passes, drawn by the supervisor's (unseeded) generator. */
export function planEval(evalSet: EvalSet, batchRows: number, random: Random = (n) => randomInt(n)): EvalPlan {
  const { T, rows, x } = evalSet;
  const pad = (n: number) => Math.max(batchRows, Math.ceil(n / batchRows) * batchRows);
  const row = (r: number) => x.subarray(r * T, (r + 1) * T);

  // scored pass: every real row once, shuffled, padded with repeats that are not scored
  const scoredRows = pad(rows);
  const order = shuffle(Array.from({ length: rows }, (_, i) => i), random);
  const realOf = new Int32Array(scoredRows).fill(-1);
  const scored = new Uint8Array(scoredRows * T);
  for (let i = 0; i < scoredRows; i++) {
    const real = i < rows ? order[i] : random(rows);
    if (i < rows) realOf[i] = real;
    scored.set(row(real), i * T);
  }

  // probe pass: every cut 0..T-1 once (T-1: the whole window, in another batch and another
  // process: only other rows or earlier windows could move it), then random cuts up to a
  // whole batch
  const probes: Probe[] = [];
  {
    const cuts = Array.from({ length: T }, (_, t) => t);
    while (cuts.length < pad(T)) cuts.push(random(T));
    const originals = shuffle(Array.from({ length: rows }, (_, i) => i), random);
    cuts.forEach((cut, k) => probes.push({ original: originals[k % rows], cut, from: Math.max(0, cut - COMPARED_POSITIONS + 1) }));
    shuffle(probes, random);
  }
  const probe = new Uint8Array(probes.length * T);
  probes.forEach((p, k) => {
    const out = probe.subarray(k * T, (k + 1) * T);
    out.set(row(p.original));
    if (p.cut === T - 1) return;
    // the tail: the same positions of another window whose byte at cut+1 differs
    let donor = -1;
    for (let tries = 0; tries < 64 && donor < 0; tries++) {
      const d = random(rows);
      if (d !== p.original && x[d * T + p.cut + 1] !== out[p.cut + 1]) donor = d;
    }
    if (donor >= 0) out.set(x.subarray(donor * T + p.cut + 1, (donor + 1) * T), p.cut + 1);
    // no such window (tiny or uniform sets): change the first byte after the cut
    else out[p.cut + 1] = (out[p.cut + 1] + 1 + random(VOCAB - 1)) % VOCAB;
  });
  return { T, batchRows, scored, scoredRows, realOf, probe, probes };
}

/** log-softmax (float64 math) of the 256 logits at `pos` of a [*, 256] block, into `out`. */
export function logSoftmaxAt(logits: Float32Array, pos: number, out: Float32Array, outPos = 0): void {
  const base = pos * VOCAB;
  let max = -Infinity;
  for (let v = 0; v < VOCAB; v++) if (logits[base + v] > max) max = logits[base + v];
  let sum = 0;
  for (let v = 0; v < VOCAB; v++) sum += Math.exp(logits[base + v] - max);
  const lse = max + Math.log(sum);
  for (let v = 0; v < VOCAB; v++) out[outPos * VOCAB + v] = logits[base + v] - lse;
}

export interface ClockSnapshot {
  fns: [string, unknown][];
}

function clockFunctions(): [string, unknown][] {
  return [
    ['Date', globalThis.Date],
    ['Date.now', Date.now],
    ['performance', globalThis.performance],
    ['performance.now', globalThis.performance?.now],
    ['process.hrtime', process.hrtime],
    ['process.hrtime.bigint', process.hrtime?.bigint],
  ];
}

export function snapshotClock(): ClockSnapshot {
  return { fns: clockFunctions() };
}

/** The name of the first clock function that was replaced since the snapshot, or null. */
export function clockTampered(snap: ClockSnapshot): string | null {
  const now = clockFunctions();
  for (let i = 0; i < snap.fns.length; i++) if (now[i][1] !== snap.fns[i][1]) return snap.fns[i][0];
  return null;
}
