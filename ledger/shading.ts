// Shading inside the replay tolerance (docs/trust.md 2b, "Shading"). On a class whose replays are
// compared by val_bpb (GPU kernels are not bit-exact) a run agrees with its replays within
// `replay_tolerance`, so an owner who trains and reports every score a little worse than it
// trained (a first or verify run: discards and refutes improvements) or better (a baseline run:
// raises the bar) passes every replay. One such pair proves nothing; a pattern does. For each
// agreed val_bpb verdict the original's score less the mean of its agreeing replays, signed so
// that positive hurts improvements, is one sample of its owner's shading; an honest owner's
// samples have mean 0 and spread sigma_pair, the spread of an honest same-seed pair, which the
// policy's tolerance declares (it is REPLAY_TOLERANCE_SIGMAS of them). A one-sided test on the mean
// of an owner's samples since its last shading fault (a fault of another kind spends no sample): at SHADING_Z standard errors, with SHADING_MIN_PAIRS
// samples at least, the owner is faulted (its trust resets: every result replayed again, so a
// second fault follows the same way and bans it). Pure; the trust fold (ledger/trust.ts), the App
// (app/policy/replays.ts) and the audit use it alike.

/** The replay tolerance is this many standard deviations of an honest same-seed pair's difference (docs/trust.md 2b: honest pairs differ by more with probability ~5e-4). */
export const REPLAY_TOLERANCE_SIGMAS = 3.5;
/** Samples an owner's test needs before it can fault. */
export const SHADING_MIN_PAIRS = 4;
/**
 * The bound, in standard errors of the mean sample. Checked after every sample, so an honest
 * owner's running mean has many looks: at 5 the chance that it ever crosses in 1,000 samples is
 * below 1e-4 (a random walk's crossing of 5 sqrt(n)), and a fault alone bans nobody.
 */
export const SHADING_Z = 5;

export type ShadingRole = 'candidate' | 'verify' | 'baseline';

/** One agreed val_bpb verdict's sample: positive when the original's score hurts improvements. */
export function shadingSample(role: ShadingRole, original: number, replays: number[]): number | null {
  if (!replays.length || !Number.isFinite(original)) return null;
  const mean = replays.reduce((a, b) => a + b, 0) / replays.length;
  return role === 'baseline' ? mean - original : original - mean;
}

export interface ShadingTest {
  /** samples since the owner's last fault */
  n: number;
  mean: number;
  /** the spread of one honest sample (an original less the mean of its replays), from the tolerance */
  sigma: number;
  z: number;
  /** the original job ids the samples came from, in order */
  job_ids: string[];
}

/** The spread of an honest sample against `replays` replays: a pair's difference is tolerance / REPLAY_TOLERANCE_SIGMAS, each run contributing 1/sqrt(2) of it. */
export function sampleSigma(tolerance: number, replays: number): number {
  const run = tolerance / REPLAY_TOLERANCE_SIGMAS / Math.SQRT2;
  return run * Math.sqrt(1 + 1 / Math.max(1, replays));
}

/** The test on an owner's samples (each with its own sigma): the mean's z against 0. */
export function shadingTest(samples: readonly { job_id: string; value: number; sigma: number }[]): ShadingTest | null {
  const n = samples.length;
  if (!n) return null;
  const mean = samples.reduce((a, s) => a + s.value, 0) / n;
  const sigma = Math.sqrt(samples.reduce((a, s) => a + s.sigma * s.sigma, 0) / n);
  const z = sigma > 0 ? (mean * Math.sqrt(n)) / sigma : 0;
  return { n, mean, sigma, z, job_ids: samples.map((s) => s.job_id) };
}

/** Whether the test faults its owner. */
export function shadingCrossed(t: ShadingTest | null): boolean {
  return !!t && t.n >= SHADING_MIN_PAIRS && t.z >= SHADING_Z;
}
