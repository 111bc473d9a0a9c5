// Flat scores: a runner that never trains, on a class whose replays are compared by val_bpb
// (docs/trust.md 2b, "Flat scores"). On a GPU class a replay agrees within `replay_tolerance`, and
// most PRs are within a fraction of a sigma of main, so a lazy owner who reports a score near the
// public baseline passes every replay of a null change (2b, "Why a score alone cannot catch a lazy
// runner"). What it cannot fake cheaply is the spread: an honest owner's first runs scatter by
// the PR's effect plus seed and eval noise, since the App hands PRs to owners regardless of their
// quality; a guess near the baseline scatters by the guesser's own choice. A guesser who copies the
// class's spread instead is wrong by about that spread on each run, and a replay of it disagrees
// (0.02 bpb) an order of magnitude more often than an honest one: the two checks cover each other.
//
// The sample: each validated first run on the clock of a candidate on a val_bpb class, less the
// class's latest baseline mean. The test: an owner's last FLAT_WINDOW samples since its last flat-scores fault (a fault of another kind spends no sample),
// their variance against the class's pooled within-owner scale of the other owners (a median of
// absolute deviations, so that a few wild owners cannot widen it and frame the rest), one-sided
// (too narrow), chi-square with n - 1 degrees of freedom. A variance is padded cheaply, though: a
// guesser who mixes a few wild scores into its flat ones passes it. So a second test counts, among
// the owner's last BAND_WINDOW samples, those within BAND_C scales of their median against the
// share of the class's (binomial, upper tail): a flat core shows however it is padded, and wild
// scores cost replays (beyond the 0.02 tolerance of a null change's true score they disagree).
// Checked at every sample, so the bound is FLAT_P per look and test. Pure; the trust fold (ledger/trust.ts), the App (app/handlers/result-intake.ts)
// and the audit use it alike.
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import type { LedgerState } from './credits.js';
import type { EntryDataOf } from './entries.js';

/** Samples the variance test looks at (and of each other owner, the class's scale): the owner's latest, since its last flat-scores fault. */
export const FLAT_WINDOW = 30;
/** Samples the band test looks at (at least FLAT_WINDOW of them); the trust fold keeps this many per owner. */
export const BAND_WINDOW = 60;
/** The band: within this many class scales of the owner's median (a normal sample puts ~24% there). */
export const BAND_C = 0.3;
/** Samples an owner needs before the test can fault it. */
export const FLAT_MIN_SAMPLES = 15;
/** Samples of other owners' (each owner's latest FLAT_WINDOW) the class's scale needs, and from how many owners. */
export const FLAT_MIN_POOL = 45;
export const FLAT_MIN_POOL_OWNERS = 3;
/**
 * The bound on the chi-square lower tail, per look. An honest owner looks at most once per first
 * run: over 1,000 looks the chance of a false fault is below 1e-4, and a fault alone bans nobody.
 * A guesser whose spread is a third of the class's crosses it at about 20 samples.
 */
export const FLAT_P = 1e-7;
/** An owner's spread is typical of its class within this factor of the median owner's (30 honest samples' MAD varies by ~25%). */
const TYPICAL = 2;
/** MAD to a normal distribution's standard deviation. */
const MAD_SIGMA = 1.4826;

export interface FlatSample {
  job_id: string;
  /** lower-cased owner */
  owner: string;
  /** val_bpb less the class's baseline mean when the result was recorded */
  value: number;
}

/** The class's spread without the owner tested: its robust scale, and the other owners' samples (each owner's latest BAND_WINDOW). */
export interface ClassScale {
  scale: number;
  others: number[][];
}

export interface FlatTest {
  /** samples in the variance test (the latest FLAT_WINDOW) */
  n: number;
  /** the owner's sample standard deviation */
  sd: number;
  /** the class's pooled within-owner scale (robust: typical owners only, a median absolute deviation) */
  scale: number;
  /** (n - 1) sd^2 / scale^2 */
  q: number;
  /** the chi-square lower tail of q with n - 1 degrees of freedom */
  p: number;
  /** the band test, with FLAT_WINDOW samples or more: k of the latest n within the band, and the binomial upper tail of k at the class's share */
  band: { n: number; k: number; share: number; p: number } | null;
  /** the samples' job ids (the latest BAND_WINDOW), in order */
  job_ids: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The class's spread without `owner`: the other owners (not banned) whose own spread is typical of
 * the class (the median absolute deviation of their latest FLAT_WINDOW samples, each centred on its
 * own median, within a factor TYPICAL of the median owner's: a saboteur's or forger's wild scores
 * or a guesser's flat ones describe no honest run), then 1.4826 times the median absolute deviation
 * of their samples pooled. Null below FLAT_MIN_POOL samples or FLAT_MIN_POOL_OWNERS such owners.
 */
export function pooledScale(classSamples: readonly FlatSample[], owner: string, banned: (login: string) => boolean = () => false): ClassScale | null {
  const byOwner = new Map<string, number[]>();
  for (const s of classSamples) {
    if (s.owner === owner || banned(s.owner)) continue;
    const xs = byOwner.get(s.owner) ?? [];
    xs.push(s.value);
    byOwner.set(s.owner, xs);
  }
  const spreads: { xs: number[]; devs: number[]; mad: number }[] = [];
  for (const xs of byOwner.values()) {
    const recent = xs.slice(-FLAT_WINDOW);
    if (recent.length < 2) continue;
    const m = median(recent);
    const devs = recent.map((x) => Math.abs(x - m));
    spreads.push({ xs, devs, mad: median(devs) });
  }
  if (!spreads.length) return null;
  const typical = median(spreads.map((o) => o.mad));
  const kept = spreads.filter((o) => o.mad >= typical / TYPICAL && o.mad <= typical * TYPICAL);
  const devs = kept.flatMap((o) => o.devs);
  if (devs.length < FLAT_MIN_POOL || kept.length < FLAT_MIN_POOL_OWNERS) return null;
  const scale = MAD_SIGMA * median(devs);
  return scale > 0 ? { scale, others: kept.map((o) => o.xs.slice(-BAND_WINDOW)) } : null;
}

/**
 * The share of the other owners' samples within the band, each owner's latest `n` (or all it has)
 * centred on their own median as the tested owner's are (a median of fewer samples sits closer to
 * them), plus 3 standard errors: an upper bound. Null below FLAT_MIN_POOL samples.
 */
export function bandShare(cls: ClassScale, n: number): number | null {
  let inside = 0;
  let all = 0;
  for (const xs of cls.others) {
    // an owner with fewer: its median sits closer to its samples still, so its share is higher (conservative)
    if (xs.length < 2) continue;
    const recent = xs.slice(-n);
    const m = median(recent);
    for (const x of recent) if (Math.abs(x - m) <= BAND_C * cls.scale) inside++;
    all += recent.length;
  }
  if (all < FLAT_MIN_POOL) return null;
  const share = inside / all;
  return Math.min(1, share + 3 * Math.sqrt((share * (1 - share)) / all) + 1 / all);
}

/** P(X >= k) for X ~ Binomial(n, p). */
export function binomialUpper(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p >= 1) return 1;
  if (p <= 0) return 0;
  // the pmf from its mode outwards in logs would be exact for any n; n here is at most BAND_WINDOW
  let pmf = Math.pow(1 - p, n);
  let tail = 0;
  for (let i = 0; i <= n; i++) {
    if (i >= k) tail += pmf;
    pmf *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.min(1, tail);
}

/** The tests on an owner's samples since its last flat-scores fault (the latest FLAT_WINDOW, and BAND_WINDOW) against the class's spread. */
export function flatTest(own: readonly FlatSample[], cls: ClassScale | null): FlatTest | null {
  const all = own.slice(-BAND_WINDOW);
  const xs = all.slice(-FLAT_WINDOW);
  const n = xs.length;
  if (n < 2 || cls === null) return null;
  const { scale } = cls;
  const mean = xs.reduce((a, s) => a + s.value, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, s) => a + (s.value - mean) ** 2, 0) / (n - 1));
  const q = ((n - 1) * sd * sd) / (scale * scale);
  let band: FlatTest['band'] = null;
  const share = all.length >= FLAT_WINDOW ? bandShare(cls, all.length) : null;
  if (share !== null) {
    const m = median(all.map((s) => s.value));
    const k = all.filter((s) => Math.abs(s.value - m) <= BAND_C * scale).length;
    band = { n: all.length, k, share, p: binomialUpper(k, all.length, share) };
  }
  return { n, sd, scale, q, p: chisquareCdf(q, n - 1), band, job_ids: all.map((s) => s.job_id) };
}

/** Whether the tests fault their owner: either below FLAT_P, with FLAT_MIN_SAMPLES or more. */
export function flatCrossed(t: FlatTest | null): boolean {
  return !!t && t.n >= FLAT_MIN_SAMPLES && (t.p < FLAT_P || (t.band !== null && t.band.p < FLAT_P));
}

/**
 * The audit of a flat-scores fault: the test on the owner's samples the trust fold holds (`s`:
 * the ledger before the fault), recomputed: crossed, on the runs cited, as recorded.
 */
export function flatFaultProblem(s: LedgerState, d: EntryDataOf<'owner_faulted'>): string | null {
  const cls = s.results.get(d.job_id)?.data.result?.hardware_class;
  const t = cls ? s.trust.flatOf(d.login, cls) : null;
  if (!t || !flatCrossed(t)) return `owner_faulted of ${d.login} for flat scores, but its first runs do not cross the flat-scores tests (${t ? `p ${t.p.toExponential(2)} over ${t.n}${t.band ? `, band p ${t.band.p.toExponential(2)} over ${t.band.n}` : ''}` : 'no samples or no class scale'}; a fault needs p below ${FLAT_P} over ${FLAT_MIN_SAMPLES} or more)`;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const r = d.flat!;
  const band = (a: FlatTest['band'] | undefined) => (a ? [a.n, a.k, a.share, a.p] : []);
  const bandsDiffer = band(r.band).length !== band(t.band).length || band(r.band).some((x, i) => !same(x, band(t.band)[i]));
  if (r.n !== t.n || !same(r.sd, t.sd) || !same(r.scale, t.scale) || !same(r.q, t.q) || bandsDiffer || t.job_ids.join() !== d.agreed_job_ids.join() || t.job_ids.at(-1) !== d.job_id) {
    return `owner_faulted of ${d.login} for flat scores records sd ${r.sd} against ${r.scale} over ${r.n} on ${d.agreed_job_ids.join(', ')}, but its samples give sd ${t.sd} against ${t.scale} over ${t.n} on ${t.job_ids.join(', ')}`;
  }
  return null;
}
