// Scores the eval child's logits file while the child is still writing it: each batch is
// read once, checked for NaN/Inf, and its real rows are scored; the rows the causality probe
// compares are kept. With wasm single-threaded, the child's forward passes use one core and
// this scoring the other, so scoring adds next to nothing to a run's wall time.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { sumBits, VOCAB } from './bpb.js';
import type { EvalSet } from './data/windows.js';
import { checkCausality, probedRows, type ProbePlan } from './probes.js';
import type { FailureKind } from './result.js';

export type Scored = { bpb: number } | { kind: FailureKind; message: string };

export class LogitsScorer {
  private done = 0; // input rows consumed
  private bits = 0;
  private failure: { kind: FailureKind; message: string } | null = null;
  private readonly kept = new Map<number, Float32Array>();
  private readonly wanted: Set<number>;
  private readonly realOf: Int32Array; // input row -> real row, or -1 for a probe row
  private readonly rowBytes: number;

  constructor(
    private readonly path: string,
    private readonly plan: ProbePlan,
    private readonly evalSet: EvalSet,
  ) {
    this.wanted = probedRows(plan);
    this.realOf = new Int32Array(plan.inputRows).fill(-1);
    plan.realRow.forEach((input, real) => (this.realOf[input] = real));
    this.rowBytes = evalSet.T * VOCAB * 4;
  }

  /** Consume rows up to `claimed` (what the child says it wrote), no further than the file holds. */
  consume(claimed: number): void {
    if (this.failure) return;
    const fd = openSync(this.path, 'r');
    try {
      const available = Math.floor(fstatSync(fd).size / this.rowBytes);
      const upto = Math.min(claimed, available, this.plan.inputRows);
      if (upto <= this.done) return;
      const n = upto - this.done;
      const buf = Buffer.alloc(n * this.rowBytes);
      readSync(fd, buf, 0, buf.length, this.done * this.rowBytes);
      this.score(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4), this.done, n);
      this.done = upto;
    } finally {
      closeSync(fd);
    }
  }

  private score(chunk: Float32Array, first: number, n: number): void {
    const { T } = this.evalSet;
    for (let i = 0; i < chunk.length; i++) {
      if (!Number.isFinite(chunk[i])) {
        this.failure = { kind: 'nan', message: `the logits hold ${chunk[i]} (row ${first + Math.floor(i / (T * VOCAB))}).` };
        return;
      }
    }
    for (let k = 0; k < n; k++) {
      const input = first + k;
      const real = this.realOf[input];
      if (real >= 0) this.bits += sumBits(chunk, this.evalSet.y.subarray(real * T, (real + 1) * T), k * T);
      if (this.wanted.has(input)) this.kept.set(input, chunk.slice(k * T * VOCAB, (k + 1) * T * VOCAB));
    }
  }

  /** After the child exited cleanly: everything must be there, finite and causal. */
  finish(): Scored {
    this.consume(this.plan.inputRows);
    if (this.failure) return this.failure;
    if (this.done !== this.plan.inputRows) {
      return { kind: 'crash', message: `the eval process wrote logits for ${this.done} of ${this.plan.inputRows} rows.` };
    }
    const causal = checkCausality((i) => this.kept.get(i) as Float32Array, this.plan);
    if (causal) return { kind: 'non_causal', message: causal };
    return { bpb: this.bits / (this.evalSet.rows * this.evalSet.T) };
  }
}
