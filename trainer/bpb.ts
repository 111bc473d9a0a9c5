// The evaluation math, owned by the harness: log-softmax over the candidate's raw logits and
// bits per byte, plus the unigram and bigram references on the very same bytes.
export const VOCAB = 256;

/** Sum over rows of -log2 softmax(logits[row])[target[row]], in float64.
 * `logits` is row-major [rows, 256]; `rows` = targets.length. Returns NaN if any logit is not finite. */
export function sumBits(logits: Float32Array, targets: Uint8Array, rowOffset = 0, rows = targets.length): number {
  let bits = 0;
  for (let r = 0; r < rows; r++) {
    const base = (rowOffset + r) * VOCAB;
    let max = -Infinity;
    for (let v = 0; v < VOCAB; v++) {
      const z = logits[base + v];
      if (!Number.isFinite(z)) return NaN;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let v = 0; v < VOCAB; v++) sum += Math.exp(logits[base + v] - max);
    const logp = logits[base + targets[r]] - max - Math.log(sum);
    bits -= logp / Math.LN2;
  }
  return bits;
}

/** bits per byte of `logits` [n, 256] predicting `targets` [n]. */
export function bpbFromLogits(logits: Float32Array, targets: Uint8Array): number {
  if (logits.length !== targets.length * VOCAB) {
    throw new Error(`bpb: ${logits.length} logits for ${targets.length} targets; expected ${targets.length * VOCAB}.`);
  }
  return sumBits(logits, targets) / targets.length;
}

/** Add-one (Laplace) byte counts fitted on training bytes. */
export interface NgramReference {
  unigram: Float64Array; // [256] log2 probabilities
  bigram: Float64Array; // [256 * 256] log2 p(next | prev), row = prev
}

export function fitReference(train: Uint8Array): NgramReference {
  const uni = new Float64Array(VOCAB);
  const bi = new Float64Array(VOCAB * VOCAB);
  for (let i = 0; i < train.length; i++) {
    uni[train[i]]++;
    if (i > 0) bi[train[i - 1] * VOCAB + train[i]]++;
  }
  const prevCount = new Float64Array(VOCAB);
  for (let i = 0; i + 1 < train.length; i++) prevCount[train[i]]++;
  const unigram = new Float64Array(VOCAB);
  for (let v = 0; v < VOCAB; v++) unigram[v] = Math.log2((uni[v] + 1) / (train.length + VOCAB));
  const bigram = new Float64Array(VOCAB * VOCAB);
  for (let a = 0; a < VOCAB; a++) {
    for (let b = 0; b < VOCAB; b++) bigram[a * VOCAB + b] = Math.log2((bi[a * VOCAB + b] + 1) / (prevCount[a] + VOCAB));
  }
  return { unigram, bigram };
}

/** Reference bpb on targets, each predicted from `prev` (the byte before it in the window). */
export function referenceBpb(ref: NgramReference, prev: Uint8Array, targets: Uint8Array): { unigram: number; bigram: number } {
  let u = 0;
  let b = 0;
  for (let i = 0; i < targets.length; i++) {
    u -= ref.unigram[targets[i]];
    b -= ref.bigram[prev[i] * VOCAB + targets[i]];
  }
  return { unigram: u / targets.length, bigram: b / targets.length };
}
