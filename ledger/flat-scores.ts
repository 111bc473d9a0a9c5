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
// class's latest baseline mean. The test: an owner's last FLAT_WINDOW samples since its last fault,
// their variance against the class's pooled within-owner scale of the other owners (a median of
// absolute deviations, so that a few wild owners cannot widen it and frame the rest), one-sided
// (too narrow), chi-square with n - 1 degrees of freedom. Checked at every sample, so the bound is
// FLAT_P per look. Pure; the trust fold (ledger/trust.ts), the App (app/handlers/result-intake.ts)
// and the audit use it alike.
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import type { LedgerState } from './credits.js';
import type { EntryDataOf } from './entries.js';

/** Samples an owner's test looks at: its latest, since its last fault. */
export const FLAT_WINDOW = 30;
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
/** MAD to a normal distribution's standard deviation. */
const MAD_SIGMA = 1.4826;

export interface FlatSample {
  job_id: string;
  /** lower-cased owner */
  owner: string;
  /** val_bpb less the class's baseline mean when the result was recorded */
  value: number;
}

export interface FlatTest {
  n: number;
  /** the owner's sample standard deviation */
  sd: number;
  /** the class's pooled within-owner scale (robust) */
  scale: number;
  /** (n - 1) sd^2 / scale^2 */
  q: number;
  /** the chi-square lower tail of q with n - 1 degrees of freedom */
  p: number;
  /** the samples' job ids, in order */
  job_ids: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The class's scale without `owner`: every other owner's latest FLAT_WINDOW samples, each centred
 * on its own median (an owner's machine may sit a little off its class), 1.4826 times the median
 * absolute value. Null below FLAT_MIN_POOL samples or FLAT_MIN_POOL_OWNERS owners.
 */
export function pooledScale(classSamples: readonly FlatSample[], owner: string, banned: (login: string) => boolean = () => false): number | null {
  const byOwner = new Map<string, number[]>();
  for (const s of classSamples) {
    if (s.owner === owner || banned(s.owner)) continue;
    const xs = byOwner.get(s.owner) ?? [];
    xs.push(s.value);
    byOwner.set(s.owner, xs);
  }
  const devs: number[] = [];
  for (const xs of byOwner.values()) {
    const recent = xs.slice(-FLAT_WINDOW);
    if (recent.length < 2) continue;
    const m = median(recent);
    for (const x of recent) devs.push(Math.abs(x - m));
  }
  const owners = [...byOwner.values()].filter((xs) => xs.length >= 2).length;
  if (devs.length < FLAT_MIN_POOL || owners < FLAT_MIN_POOL_OWNERS) return null;
  const scale = MAD_SIGMA * median(devs);
  return scale > 0 ? scale : null;
}

/** The test on an owner's samples since its last fault (the latest FLAT_WINDOW) against the class's scale. */
export function flatTest(own: readonly FlatSample[], scale: number | null): FlatTest | null {
  const xs = own.slice(-FLAT_WINDOW);
  const n = xs.length;
  if (n < 2 || scale === null) return null;
  const mean = xs.reduce((a, s) => a + s.value, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, s) => a + (s.value - mean) ** 2, 0) / (n - 1));
  const q = ((n - 1) * sd * sd) / (scale * scale);
  return { n, sd, scale, q, p: chisquareCdf(q, n - 1), job_ids: xs.map((s) => s.job_id) };
}

/** Whether the test faults its owner. */
export function flatCrossed(t: FlatTest | null): boolean {
  return !!t && t.n >= FLAT_MIN_SAMPLES && t.p < FLAT_P;
}

/**
 * The audit of a flat-scores fault: the test on the owner's samples the trust fold holds (`s`:
 * the ledger before the fault), recomputed: crossed, on the runs cited, as recorded.
 */
export function flatFaultProblem(s: LedgerState, d: EntryDataOf<'owner_faulted'>): string | null {
  const cls = s.results.get(d.job_id)?.data.result?.hardware_class;
  const t = cls ? s.trust.flatOf(d.login, cls) : null;
  if (!t || !flatCrossed(t)) return `owner_faulted of ${d.login} for flat scores, but its first runs do not cross the flat-scores test (${t ? `p ${t.p.toExponential(2)} over ${t.n}` : 'no samples or no class scale'}; a fault needs p below ${FLAT_P} over ${FLAT_MIN_SAMPLES} or more)`;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const r = d.flat!;
  if (r.n !== t.n || !same(r.sd, t.sd) || !same(r.scale, t.scale) || !same(r.q, t.q) || t.job_ids.join() !== d.agreed_job_ids.join() || t.job_ids.at(-1) !== d.job_id) {
    return `owner_faulted of ${d.login} for flat scores records sd ${r.sd} against ${r.scale} over ${r.n} on ${d.agreed_job_ids.join(', ')}, but its samples give sd ${t.sd} against ${t.scale} over ${t.n} on ${t.job_ids.join(', ')}`;
  }
  return null;
}
