// Trust in runner owners, recomputed from the ledger alone (BOINC's adaptive replication): an
// owner's result counts and earns once another owner's run of the same job agreed with it, or,
// after `replicate_until` agreeing results, when the spot-check draw did not pick it. A result
// outvoted by `outvote_quorum` agreeing owners (2 in older policies) is a fault: the owner's trust resets, and repeated faults ban
// it. The App decides with these same functions (app/policy/replication.ts); `npm run ledger --
// verify` replays them and flags any grant, merge or baseline the policy did not allow.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { EntryDataOf, LedgerEntry } from './entries.js';
import { flatTest, pooledScale, BAND_WINDOW, type FlatSample, type FlatTest } from './flat-scores.js';
import { replayBy, replayVerdict, type ReplayVerdict } from './replays.js';
import { sampleSigma, shadingSample, shadingTest, type ShadingRole, type ShadingTest } from './shading.js';

export type TrustPolicy = EntryDataOf<'trust_policy'>;

/** Distinct other owners whose agreement an owner needs before it is trusted (at most replicate_until). */
export const TRUST_PARTNERS = 3;

/** Defaults and why: docs/trust.md. */
export const DEFAULT_TRUST_POLICY: TrustPolicy = { replicate_until: 10, spot_check_rate: 0.1, quorum: 1, tolerance: 0.02, ban_after_faults: 2, baseline_owners: 2, max_class_weight: 100, replay_tolerance: 0.02, ban_forfeits: true, outvote_quorum: 3 };

export interface OwnerTrust {
  login: string;
  /** results of this owner another owner's run agreed with, since its last fault */
  agreed: number;
  /** the distinct other owners (lower-cased) whose runs agreed with those results */
  partners: Set<string>;
  faults: number;
  /** why it was banned, or null */
  banned: string | null;
}

/**
 * The spot-check draw of a result, uniform in [0, 1): a hash of the time the App stamped on the
 * result entry (to the millisecond, known only once the App records the result) and the job id.
 * The runner cannot predict it when it uploads, gets one draw per job, and anyone can recompute it.
 */
export function spotDraw(time: string, jobId: string): number {
  const h = createHash('sha256').update(canonicalJson({ purpose: 'autoresearch spot check', time, job_id: jobId })).digest('hex');
  return parseInt(h.slice(0, 13), 16) / 2 ** 52;
}

/** Two runs of one job agree when both failed, or both scored within `tolerance` bpb. */
export function runsAgree(a: number | null, b: number | null, tolerance: number): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= tolerance + 1e-12;
}

const key = (login: string) => login.toLowerCase();

type ResultOf = (jobId: string) => { seq: number; time: string; data: EntryDataOf<'result_recorded'> } | undefined;

/**
 * Whether a recorded result can be replayed (docs/trust.md 2b): a scored run of the clock whose
 * digest the App opened at intake (its entry commits to it) and whose seeds and schedule it
 * recorded. A failed run, or one of an older harness or without the App's key, cannot.
 */
export function replayable(d: EntryDataOf<'result_recorded'>): boolean {
  const r = d.result;
  return !!(d.validated && d.runner_owner && d.digest_commitment && r && r.status === 'ok' && r.val_bpb !== null && r.replay?.schedule && !r.replay.of && r.eval_seed !== null);
}

export class TrustBook {
  /** null until the ledger records a trust_policy: a ledger from before replication */
  policy: TrustPolicy | null = null;
  readonly owners = new Map<string, OwnerTrust>();
  /** job ids of results another owner's run agreed with (or part of a baseline two owners agreed on) */
  readonly checked = new Set<string>();
  /** job ids of results outvoted by other owners' agreeing runs */
  readonly faulted = new Set<string>();
  /** the verdict on each judged replay (by the original's job id), recomputed from the digests its replay_judged entry reveals */
  readonly replays = new Map<string, ReplayVerdict>();
  /**
   * Baseline runs and counted fresh-seed verify runs that must be reproduced by another owner's
   * replay before they count (in a baseline, toward trust) or earn: every one of an owner on
   * probation, and the spot check's draw of a trusted owner's (docs/trust.md 2b). Fixed when the
   * run is recorded (a baseline run) or counted (a verify run's `verification` entry).
   */
  readonly replayDue = new Set<string>();
  /** the replay jobs dispatched for each original (by its job id), in order */
  readonly replayJobs = new Map<string, string[]>();
  /**
   * job ids of runs a bit-exact replay reproduced (a `digest` verdict's agreeing group): the only
   * results that prove their training was done. A ban under `ban_forfeits` reverses the rest.
   */
  readonly proven = new Set<string>();
  /** under `spot_check_decay`: the spot-check rate of each result's owner when the result was recorded (spotRate) */
  readonly spotRateAt = new Map<string, number>();
  /** each owner's shading samples since its last shading fault (a fault of another kind spends none) (ledger/shading.ts), by lower-cased login */
  readonly shading = new Map<string, { job_id: string; value: number; sigma: number }[]>();
  /** flat-scores samples (ledger/flat-scores.ts) by class, then by lower-cased owner: each owner's latest BAND_WINDOW since its last flat-scores fault (a fault of another kind spends none) */
  readonly flat = new Map<string, Map<string, FlatSample[]>>();
  /** each class's latest baseline mean (replaced, never changed: dispatches keep the one they saw) */
  baselineMean: ReadonlyMap<string, number> = new Map();
  /** the class baselines in force when each job was dispatched: a flat-scores sample is its score less its class's */
  readonly dispatchBaselines = new Map<string, ReadonlyMap<string, number>>();
  /**
   * the login (as registered) under which each GitHub account first registered runners, by the
   * account id the route records (`runner_registered.owner_id`): an account is one owner, and a
   * renamed one counts under this login only (app/policy/eligibility.ts)
   */
  readonly accountLogins = new Map<number, string>();
  /** the account id each login (lower-cased) registered runners under first */
  readonly loginAccounts = new Map<string, number>();

  /**
   * Makes this (empty) book a copy of `other` that later apply() calls on either leave the other
   * alone (LedgerState.clone). A field added to this class must be copied here too.
   */
  copyFrom(other: TrustBook): void {
    this.policy = other.policy;
    for (const [k, o] of other.owners) this.owners.set(k, { ...o, partners: new Set(o.partners) });
    for (const j of other.checked) this.checked.add(j);
    for (const j of other.faulted) this.faulted.add(j);
    for (const [j, v] of other.replays) this.replays.set(j, v);
    for (const j of other.replayDue) this.replayDue.add(j);
    for (const [j, ids] of other.replayJobs) this.replayJobs.set(j, [...ids]);
    for (const j of other.proven) this.proven.add(j);
    for (const [j, r] of other.spotRateAt) this.spotRateAt.set(j, r);
    for (const [o, xs] of other.shading) this.shading.set(o, [...xs]);
    for (const [c, m] of other.flat) this.flat.set(c, new Map([...m].map(([o, xs]) => [o, [...xs]])));
    this.baselineMean = other.baselineMean;
    for (const [j, m] of other.dispatchBaselines) this.dispatchBaselines.set(j, m);
    for (const [id, login] of other.accountLogins) this.accountLogins.set(id, login);
    for (const [login, id] of other.loginAccounts) this.loginAccounts.set(login, id);
  }

  /** The login GitHub account `id` first registered runners under, or null (see accountLogins). */
  firstLoginOf(id: number): string | null {
    return this.accountLogins.get(id) ?? null;
  }

  /** Who `login` is as an owner (lower-cased): the first login of the account that registered runners under it, else the login itself. */
  ownerKey(login: string): string {
    const id = this.loginAccounts.get(key(login));
    return key((id !== undefined && this.accountLogins.get(id)) || login);
  }

  /** The shading test (ledger/shading.ts) on `login`'s samples since its last shading fault, with `extra` added. */
  shadingOf(login: string, extra?: { job_id: string; value: number; sigma: number }): ShadingTest | null {
    return shadingTest([...(this.shading.get(key(login)) ?? []), ...(extra ? [extra] : [])]);
  }

  /**
   * The flat-scores sample of a result (ledger/flat-scores.ts), or null: a validated run on the
   * clock of a candidate (its first run) or of the default branch (a baseline run), scored on a
   * backend whose replays compare val_bpb (on the others a replay's digest proves the training), on
   * a class with a baseline, under a trust policy. A baseline run scatters a little less than a
   * candidate's (no PR effect) and right after a merge sits a merge's gain off the old baseline; an
   * owner's samples mix both as every owner's do, and the tests' margins hold (docs/trust.md 2b).
   */
  flatSampleOf(d: EntryDataOf<'result_recorded'>, longRun = false): FlatSample | null {
    const r = d.result;
    if (!this.policy || longRun || !d.validated || (d.role !== 'candidate' && d.role !== 'baseline') || !d.runner_owner || !r || r.status !== 'ok' || r.val_bpb === null || r.replay?.of) return null;
    const base = (this.dispatchBaselines.get(d.job_id) ?? this.baselineMean).get(r.hardware_class);
    if (base === undefined || replayBy(r.backend, this.policy.deterministic_backends) !== 'val_bpb') return null;
    return { job_id: d.job_id, owner: key(d.runner_owner), value: r.val_bpb - base };
  }

  /** The flat-scores test on `login`'s samples on `cls` since its last flat-scores fault, with `extra` added, against the other owners' (not banned) of the class. */
  flatOf(login: string, cls: string, extra?: FlatSample | null): FlatTest | null {
    const byOwner = this.flat.get(cls);
    const own = [...(byOwner?.get(key(login)) ?? []), ...(extra ? [extra] : [])];
    const others = [...(byOwner ?? new Map<string, FlatSample[]>()).values()].flat();
    return flatTest(own, pooledScale(others, key(login), (o) => !!this.banned(o)));
  }

  owner(login: string): OwnerTrust {
    let o = this.owners.get(key(login));
    if (!o) {
      o = { login, agreed: 0, partners: new Set(), faults: 0, banned: null };
      this.owners.set(key(login), o);
    }
    return o;
  }

  banned(login: string): string | null {
    return this.owners.get(key(login))?.banned ?? null;
  }

  /**
   * Whether `login`'s results are only spot-checked now: `replicate_until` agreeing results,
   * confirmed by at least min(replicate_until, 3) distinct other owners, so that a pair of
   * colluding accounts confirming each other never becomes trusted. Everyone is, on a ledger
   * without a policy.
   */
  trusted(login: string, policy: TrustPolicy | null = this.policy): boolean {
    if (!policy) return true;
    const o = this.owners.get(key(login));
    return !o?.banned && (o?.agreed ?? 0) >= policy.replicate_until && (o?.partners.size ?? 0) >= Math.min(policy.replicate_until, TRUST_PARTNERS);
  }

  /**
   * The share of `login`'s results the spot check draws now: `spot_check_rate`, or under
   * `spot_check_decay` that rate at `replicate_until` agreeing results and falling as 1/agreed
   * after (BOINC's 1/CV: at the defaults 10% at 10 agreeing results, 5% at 20, 2.5% at 40).
   */
  spotRate(login: string, policy: TrustPolicy | null = this.policy): number {
    if (!policy) return 0;
    if (!policy.spot_check_decay || policy.replicate_until <= 0) return policy.spot_check_rate;
    const agreed = this.owners.get(key(login))?.agreed ?? 0;
    return (policy.spot_check_rate * policy.replicate_until) / Math.max(agreed, policy.replicate_until);
  }

  /**
   * Whether the spot check picks a result (of a trusted owner) for a re-run by another owner: its
   * draw below the rate of its owner when it was recorded (the rate now, before it is).
   */
  drawn(time: string, jobId: string, policy: TrustPolicy | null = this.policy, owner: string | null = null): boolean {
    if (!policy) return false;
    const rate = policy.spot_check_decay ? (this.spotRateAt.get(jobId) ?? (owner ? this.spotRate(owner, policy) : policy.spot_check_rate)) : policy.spot_check_rate;
    return spotDraw(time, jobId) < rate;
  }

  /**
   * Whether the result of `jobId` (of role `role`, recorded at `time` by `owner`) must be replayed
   * before it counts or earns, judged on this book as it stands: a baseline run or a counted
   * fresh-seed verify run that can be replayed, of an owner on probation, or drawn by the spot check.
   */
  replayRequired(d: EntryDataOf<'result_recorded'>, time: string, longRun = false): boolean {
    if (!this.policy || longRun || !replayable(d)) return false;
    if (d.role !== 'baseline' && d.role !== 'verify') return false;
    return !this.trusted(d.runner_owner!) || this.drawn(time, d.job_id, this.policy, d.runner_owner);
  }

  /** Whether `jobId` must be reproduced by a replay and no replay verdict has reproduced it (yet). */
  awaitsReplay(jobId: string): boolean {
    return this.replayDue.has(jobId) && this.replays.get(jobId)?.verdict !== 'agreed';
  }

  /** `jobId` was confirmed by the runs `by` (other owners' jobs that agreed with it). */
  private check(jobId: string, by: string[], resultOf: ResultOf): void {
    const owner = resultOf(jobId)?.data.runner_owner;
    if (this.faulted.has(jobId)) return;
    // a run that must be replayed is confirmed by its replays only (a lazy echo "agrees" with a claim)
    if (this.awaitsReplay(jobId)) return;
    if (owner) for (const j of by) {
      const other = resultOf(j)?.data.runner_owner;
      if (other && key(other) !== key(owner)) this.owner(owner).partners.add(key(other));
    }
    if (this.checked.has(jobId)) return;
    this.checked.add(jobId);
    if (owner) this.owner(owner).agreed++;
  }

  apply(e: LedgerEntry, resultOf: ResultOf, longRun: (jobId: string) => boolean = () => false): void {
    switch (e.type) {
      case 'trust_policy':
        this.policy = (e as LedgerEntry<'trust_policy'>).data;
        break;
      case 'job_dispatched': {
        const d = (e as LedgerEntry<'job_dispatched'>).data;
        if (d.replay && d.verifies) this.replayJobs.set(d.verifies, [...(this.replayJobs.get(d.verifies) ?? []), d.job_id]);
        if (d.role === 'candidate' || d.role === 'baseline') this.dispatchBaselines.set(d.job_id, this.baselineMean);
        break;
      }
      case 'result_recorded': {
        const d = (e as LedgerEntry<'result_recorded'>).data;
        if (d.runner_owner) this.owner(d.runner_owner);
        if (d.runner_owner && this.policy?.spot_check_decay) this.spotRateAt.set(d.job_id, this.spotRate(d.runner_owner));
        // a proven forgery is a fault as an outvoted run is: trust reset, counted toward a ban
        if (d.forgery && !d.validated && d.runner_owner) {
          const o = this.owner(d.runner_owner);
          o.faults++;
          o.agreed = 0;
          o.partners.clear();
        }
        if (d.role === 'baseline' && this.replayRequired(d, e.time, longRun(d.job_id))) this.replayDue.add(d.job_id);
        const flat = this.flatSampleOf(d, longRun(d.job_id));
        if (flat) {
          const byOwner = this.flat.get(d.result!.hardware_class) ?? new Map<string, FlatSample[]>();
          byOwner.set(flat.owner, [...(byOwner.get(flat.owner) ?? []), flat].slice(-BAND_WINDOW));
          this.flat.set(d.result!.hardware_class, byOwner);
        }
        break;
      }
      case 'verification': {
        const d = (e as LedgerEntry<'verification'>).data;
        const v = resultOf(d.verify_job_id);
        if (v && !this.replayDue.has(d.verify_job_id) && this.replayRequired(v.data, v.time, longRun(d.verify_job_id))) this.replayDue.add(d.verify_job_id);
        if (d.agreed) {
          this.check(d.job_id, [d.verify_job_id], resultOf);
          this.check(d.verify_job_id, [d.job_id], resultOf);
        }
        break;
      }
      case 'owner_faulted': {
        const d = (e as LedgerEntry<'owner_faulted'>).data;
        this.checked.delete(d.job_id);
        this.faulted.add(d.job_id);
        const o = this.owner(d.login);
        o.faults++;
        o.agreed = 0;
        o.partners.clear();
        // a test's samples are spent only by its own fault: one of another kind (an outvoted run)
        // leaves them, or a guesser starts again from none after each (session 20's finding)
        if (d.shading) this.shading.delete(key(d.login));
        if (d.flat) for (const byOwner of this.flat.values()) byOwner.delete(key(d.login));
        // a shading or flat-scores fault cites the faulted owner's own runs: no one else's is confirmed by it
        if (!d.shading && !d.flat) for (const j of d.agreed_job_ids) this.check(j, d.agreed_job_ids, resultOf);
        break;
      }
      case 'replay_judged': {
        // the verdict as the digests and scores say, not as the entry says (the audit flags a difference)
        const d = (e as LedgerEntry<'replay_judged'>).data;
        const v = replayVerdict(replayRuns(d, resultOf), d.by, d.tolerance, this.policy?.outvote_quorum);
        this.replays.set(d.job_id, v);
        if (v.verdict === 'agreed' || v.verdict === 'outvoted') for (const j of v.group) this.check(j, v.group, resultOf);
        if (d.by === 'digest' && (v.verdict === 'agreed' || v.verdict === 'outvoted')) for (const j of v.group) this.proven.add(j);
        const sample = d.by === 'val_bpb' ? shadingSampleOf(d.job_id, v, replayRuns(d, resultOf), d.tolerance, resultOf) : null;
        if (sample) this.shading.set(key(sample.owner), [...(this.shading.get(key(sample.owner)) ?? []), sample]);
        break;
      }
      case 'runner_registered': {
        const d = (e as LedgerEntry<'runner_registered'>).data;
        if (d.owner_id !== undefined && !this.accountLogins.has(d.owner_id)) this.accountLogins.set(d.owner_id, d.owner);
        if (d.owner_id !== undefined && !this.loginAccounts.has(key(d.owner))) this.loginAccounts.set(key(d.owner), d.owner_id);
        break;
      }
      case 'owner_banned':
        this.owner((e as LedgerEntry<'owner_banned'>).data.login).banned = (e as LedgerEntry<'owner_banned'>).data.reason;
        break;
      case 'baseline_recorded': {
        const d = (e as LedgerEntry<'baseline_recorded'>).data;
        this.baselineMean = new Map([...this.baselineMean, [d.hardware_class, d.mean]]);
        if (baselineOwners(d.job_ids, resultOf).size >= (this.policy?.baseline_owners ?? 1)) for (const j of d.job_ids) this.check(j, d.job_ids, resultOf);
        break;
      }
      default:
        break;
    }
  }

  /** Whether a result only waits for another owner's run (not banned, not outvoted): its credit is pending. */
  awaiting(d: EntryDataOf<'result_recorded'>): boolean {
    return !this.faulted.has(d.job_id) && !(d.runner_owner && this.banned(d.runner_owner));
  }

  /**
   * Why a validated result may not earn (yet) under the policy, or null. Long runs claim nothing
   * and are exempt; a candidate of a trusted owner earns unless the spot check drew it.
   */
  uncounted(r: { time: string; data: EntryDataOf<'result_recorded'> }, longRun: boolean): string | null {
    const d = r.data;
    if (!this.policy) return null;
    // a banned owner earns nothing, long runs included (before, a long run was exempt before this check)
    if (d.runner_owner && this.banned(d.runner_owner)) return `${d.runner_owner} is banned (${this.banned(d.runner_owner)})`;
    if (longRun) return null;
    if (this.faulted.has(d.job_id)) return `the result of job ${d.job_id} was outvoted by other owners' runs`;
    if (this.awaitsReplay(d.job_id)) return `the result of job ${d.job_id} is not reproduced by another owner's replay yet`;
    if (this.checked.has(d.job_id)) return null;
    if (d.role === 'candidate' && d.runner_owner && this.trusted(d.runner_owner) && !this.drawn(r.time, d.job_id, this.policy, d.runner_owner)) return null;
    return `the result of job ${d.job_id} is not confirmed by another owner's run yet`;
  }
}

/** The runs a replay_judged entry judges (the original first), with the digests it reveals and the scores their results recorded. */
export function replayRuns(d: EntryDataOf<'replay_judged'>, resultOf: ResultOf): { job_id: string; digest: string | null; val_bpb: number | null }[] {
  return [d.job_id, ...d.replay_job_ids].map((j, i) => {
    const r = resultOf(j)?.data.result;
    return { job_id: j, digest: d.digests[i] ?? null, val_bpb: r?.status === 'ok' ? (r.val_bpb ?? null) : null };
  });
}

/**
 * The shading sample (ledger/shading.ts) of a val_bpb replay verdict: the original's score against
 * the mean of the replays that agree with it, for the original's owner; null unless the original
 * is in the agreeing group with at least one scored replay.
 */
export function shadingSampleOf(original: string, v: ReplayVerdict, runs: { job_id: string; val_bpb: number | null }[], tolerance: number, resultOf: ResultOf): { owner: string; job_id: string; value: number; sigma: number } | null {
  if ((v.verdict !== 'agreed' && v.verdict !== 'outvoted') || !v.group.includes(original)) return null;
  const rec = resultOf(original)?.data;
  const mine = runs.find((r) => r.job_id === original)?.val_bpb;
  const others = runs.filter((r) => r.job_id !== original && v.group.includes(r.job_id) && r.val_bpb !== null).map((r) => r.val_bpb as number);
  if (!rec?.runner_owner || mine === null || mine === undefined || !others.length) return null;
  const value = shadingSample(rec.role as ShadingRole, mine, others);
  return value === null ? null : { owner: rec.runner_owner, job_id: original, value, sigma: sampleSigma(tolerance, others.length) };
}

/** The distinct (lower-cased) owners of the results `jobIds`. */
export function baselineOwners(jobIds: string[], resultOf: ResultOf): Set<string> {
  const owners = new Set<string>();
  for (const j of jobIds) {
    const o = resultOf(j)?.data.runner_owner;
    if (o) owners.add(key(o));
  }
  return owners;
}
