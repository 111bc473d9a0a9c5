// Scores the eval children's logits as each batch arrives: NaN/Inf checks, bits of the real
// rows (harness log-softmax), the log-probabilities the probes compare kept from the scored
// pass, and the comparison itself when the probe pass answers. The bits are summed in the
// windows' own order, not the shuffled order the scored pass sees them in, so that the same
// checkpoint scores the same val_bpb to the last bit in every run (a replay compares it).
import { sumBits, VOCAB } from './bpb.js';
import type { EvalSet } from './data/windows.js';
import { CAUSAL_ATOL, logSoftmaxAt, type EvalPlan } from './probes.js';
import type { FailureKind } from './result.js';

export type Scored = { bpb: number; maxProbeDiff: number } | { kind: FailureKind; message: string };

export class EvalScorer {
  /** bits of each real row, summed in row order at the end */
  private readonly rowBits: Float64Array;
  private scoredDone = 0;
  private probeDone = 0;
  private failure: { kind: FailureKind; message: string } | null = null;
  /** per probe: the scored pass's log-probabilities at its compared positions */
  private readonly kept: (Float32Array | null)[];
  /** real row -> the probes that copy it */
  private readonly probesOf = new Map<number, number[]>();
  /** largest |difference| of a compared log-probability seen so far (nats) */
  maxProbeDiff = 0;

  constructor(
    private readonly plan: EvalPlan,
    private readonly evalSet: EvalSet,
    private readonly atol = CAUSAL_ATOL,
  ) {
    this.kept = plan.probes.map(() => null);
    this.rowBits = new Float64Array(evalSet.rows);
    plan.probes.forEach((p, k) => this.probesOf.set(p.original, [...(this.probesOf.get(p.original) ?? []), k]));
  }

  get failed(): { kind: FailureKind; message: string } | null {
    return this.failure;
  }

  private finite(chunk: Float32Array, pass: string, first: number): boolean {
    for (let i = 0; i < chunk.length; i++) {
      if (!Number.isFinite(chunk[i])) {
        this.failure = { kind: 'nan', message: `the logits hold ${chunk[i]} (${pass} row ${first + Math.floor(i / (this.plan.T * VOCAB))}).` };
        return false;
      }
    }
    return true;
  }

  /** The next `n` rows of the scored pass. */
  scored(chunk: Float32Array, n: number): void {
    if (this.failure || !this.finite(chunk, 'scored', this.scoredDone)) return;
    const { T } = this.plan;
    for (let k = 0; k < n; k++) {
      const real = this.plan.realOf[this.scoredDone + k];
      if (real < 0) continue;
      this.rowBits[real] += sumBits(chunk, this.evalSet.y.subarray(real * T, (real + 1) * T), k * T);
      const rowLogits = chunk.subarray(k * T * VOCAB, (k + 1) * T * VOCAB);
      for (const p of this.probesOf.get(real) ?? []) {
        const { from, cut } = this.plan.probes[p];
        const out = new Float32Array((cut - from + 1) * VOCAB);
        for (let pos = from; pos <= cut; pos++) logSoftmaxAt(rowLogits, pos, out, pos - from);
        this.kept[p] = out;
      }
    }
    this.scoredDone += n;
  }

  /** The next `n` rows of the probe pass (after the scored pass is complete). */
  probe(chunk: Float32Array, n: number): void {
    if (this.failure || !this.finite(chunk, 'probe', this.probeDone)) return;
    const { T } = this.plan;
    const lp = new Float32Array(VOCAB);
    for (let k = 0; k < n; k++) {
      const idx = this.probeDone + k;
      const { from, cut } = this.plan.probes[idx];
      const want = this.kept[idx];
      if (!want) {
        this.failure = { kind: 'harness_error', message: `probe ${idx} has no scored-pass values; the scored pass must finish first.` };
        return;
      }
      const rowLogits = chunk.subarray(k * T * VOCAB, (k + 1) * T * VOCAB);
      for (let pos = from; pos <= cut; pos++) {
        logSoftmaxAt(rowLogits, pos, lp);
        for (let v = 0; v < VOCAB; v++) {
          const d = Math.abs(lp[v] - want[(pos - from) * VOCAB + v]);
          if (d > this.maxProbeDiff) this.maxProbeDiff = d;
          if (d > this.atol) {
            this.failure = {
              kind: 'non_causal',
              message:
                `the log-probability of byte ${v} at position ${pos} moved by ${d.toFixed(4)} nats (tolerance ${this.atol}) when only bytes after position ${cut} ` +
                'of the window changed, in a separate evaluation process: the prediction at t must depend on bytes 0..t of its own row only ' +
                '(not on later bytes, other rows of the batch, or windows seen before).',
            };
            return;
          }
        }
      }
    }
    this.probeDone += n;
  }

  /** After both passes: everything must be there, finite and causal. */
  finish(): Scored {
    if (this.failure) return this.failure;
    if (this.scoredDone !== this.plan.scoredRows || this.probeDone !== this.plan.probes.length) {
      return { kind: 'crash', message: `the eval processes answered ${this.scoredDone} of ${this.plan.scoredRows} scored rows and ${this.probeDone} of ${this.plan.probes.length} probe rows.` };
    }
    let bits = 0;
    for (const b of this.rowBits) bits += b;
    return { bpb: bits / (this.evalSet.rows * this.evalSet.T), maxProbeDiff: this.maxProbeDiff };
  }
}
