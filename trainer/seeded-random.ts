// Math.random, seeded from the run's seed in each child before the candidate loads. tfjs's random
// ops without a seed (tf.randomUniform, tf.randomNormal, tf.dropout, ...) draw their seed from
// Math.random, as may a candidate's own initialisation: seeded, a candidate that forgets a seed
// still trains the same bits from the same seed, and so can be replayed (docs/trust.md, "Replays").
// Not for secrets: nothing in a child is.
import { mulberry32 } from './data/rng.js';

/** a constant apart from the data order's and the warm-up's generators, which use the same seed */
const SALT = 0x6d617468; // "math"

export function seedMathRandom(seed: number): void {
  Math.random = mulberry32((seed ^ SALT) >>> 0);
}
