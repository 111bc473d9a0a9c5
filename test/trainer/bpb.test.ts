import { describe, expect, it } from '@jest/globals';
import { bpbFromLogits, fitReference, referenceBpb } from '../../trainer/bpb.js';

describe('val_bpb math', () => {
  it('scores a uniform model at exactly 8.0 bits per byte', () => {
    const targets = Uint8Array.from([0, 7, 255, 65, 10]);
    expect(bpbFromLogits(new Float32Array(targets.length * 256), targets)).toBe(8);
  });

  it('is invariant to adding a constant to a row of logits (log-softmax)', () => {
    const targets = Uint8Array.from([3]);
    const logits = new Float32Array(256).fill(1000);
    expect(bpbFromLogits(logits, targets)).toBe(8);
  });

  it('gives the hand-computed value for known probabilities', () => {
    // row 0: the target's logit is ln 3, the other 255 are 0 -> p = 3/258
    // row 1: all zero -> p = 1/256
    const logits = new Float32Array(2 * 256);
    logits[65] = Math.log(3);
    const bpb = bpbFromLogits(logits, Uint8Array.from([65, 66]));
    const hand = (Math.log2(258 / 3) + 8) / 2; // = 7.2131323773...
    expect(bpb).toBeCloseTo(hand, 6);
    expect(bpb).toBeCloseTo(7.213132377, 6);
  });

  it('returns NaN when a logit is not finite, so a NaN model never gets a score', () => {
    const logits = new Float32Array(256);
    logits[9] = Number.POSITIVE_INFINITY;
    expect(bpbFromLogits(logits, Uint8Array.from([1]))).toBeNaN();
  });

  it('fits add-one unigram and bigram references by hand', () => {
    const train = new TextEncoder().encode('abab'); // a:2 b:2; pairs ab, ba, ab
    const ref = fitReference(train);
    const a = 97;
    const b = 98;
    const { unigram, bigram } = referenceBpb(ref, Uint8Array.from([a]), Uint8Array.from([b]));
    expect(unigram).toBeCloseTo(-Math.log2(3 / 260), 10); // (2+1)/(4+256)
    expect(bigram).toBeCloseTo(-Math.log2(3 / 258), 10); // (c(ab)=2 +1)/(c(a as prev)=2 +256)
  });
});
