// Probes the harness runs on every candidate.
//
// Causality: probe rows are copies of real evaluation rows whose bytes after a position t are
// replaced; they are shuffled in among the real rows, so the eval child cannot tell a probe
// from a scored window. A causal model gives the same logits at positions 0..t for both; a
// model that peeks ahead (or mixes rows of a batch) does not.
//
// Clock: the train child snapshots the clock functions before it loads the candidate and
// checks them after every step; a candidate that replaces them is reported as tampering.
import { randomInt } from 'node:crypto';
import type { EvalSet } from './data/windows.js';
import { VOCAB } from './bpb.js';

export interface ProbePlan {
  /** [inputRows, T] bytes the eval child receives */
  input: Uint8Array;
  inputRows: number;
  /** input row of each real evaluation row */
  realRow: Int32Array;
  probes: { real: number; probeRow: number; t: number }[];
}

/** Logits may differ by float noise between batches (GPU kernels pick algorithms by shape). */
export const CAUSAL_ATOL = 1e-3;
export const CAUSAL_RTOL = 1e-3;

export function planProbes(evalSet: EvalSet, probeCount: number, random: (n: number) => number = (n) => randomInt(n)): ProbePlan {
  const { T, rows } = evalSet;
  const nProbes = Math.min(probeCount, rows);
  const inputRows = rows + nProbes;
  // a random permutation of input rows: real rows first, then probes, then shuffled
  const perm = Array.from({ length: inputRows }, (_, i) => i);
  for (let i = inputRows - 1; i > 0; i--) {
    const j = random(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const input = new Uint8Array(inputRows * T);
  const realRow = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    realRow[r] = perm[r];
    input.set(evalSet.x.subarray(r * T, (r + 1) * T), perm[r] * T);
  }
  const probes: ProbePlan['probes'] = [];
  for (let k = 0; k < nProbes; k++) {
    const real = random(rows);
    const t = T > 1 ? random(T - 1) : 0; // positions 0..t stay, t+1.. change
    const probeRow = perm[rows + k];
    const row = input.subarray(probeRow * T, (probeRow + 1) * T);
    row.set(evalSet.x.subarray(real * T, (real + 1) * T));
    for (let i = t + 1; i < T; i++) row[i] = (row[i] + 1 + random(VOCAB - 1)) % VOCAB; // always a different byte
    probes.push({ real, probeRow, t });
  }
  return { input, inputRows, realRow, probes };
}

/** Input rows whose logits the causality check compares. */
export function probedRows(plan: ProbePlan): Set<number> {
  return new Set(plan.probes.flatMap((p) => [plan.realRow[p.real], p.probeRow]));
}

/** null if causal, else a sentence saying where the prediction moved.
 * `row(i)` gives the [T, 256] logits of input row i (at least those in probedRows). */
export function checkCausality(row: (inputRow: number) => Float32Array, plan: ProbePlan): string | null {
  for (const p of plan.probes) {
    const a = row(plan.realRow[p.real]);
    const b = row(p.probeRow);
    for (let i = 0; i < (p.t + 1) * VOCAB; i++) {
      const u = a[i];
      const v = b[i];
      if (Math.abs(u - v) > CAUSAL_ATOL + CAUSAL_RTOL * Math.abs(u)) {
        const pos = Math.floor(i / VOCAB);
        return (
          `the logits at position ${pos} changed (${u} vs ${v}) when only bytes after position ${p.t} of the window changed: ` +
          'the prediction at t must depend on bytes 0..t of its own row only.'
        );
      }
    }
  }
  return null;
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
