// Adaptive replication (BOINC's scheme), the App's side. Pure: the ledger's trust state, the
// policy and the runs of one job in; whether to re-run, and what the runs agree on, out.
// The state itself (who agreed with whom, faults, bans) is folded from the ledger in
// ledger/trust.ts, which `npm run ledger -- verify` replays with the same rules.
import { agreesWithMember, largestAgreeingGroup } from '../../ledger/agreement.js';
import { type EntryDataOf, type LedgerState, type NewEntry, type TrustPolicy } from '../../ledger/index.js';
import type { AutoresearchConfig } from '../config.js';
import { step, widen, type Margin, type Scale, type Sequential } from './decide.js';

/** The policy the repository's settings ask for, in the form the ledger records. */
export function trustPolicyOf(c: AutoresearchConfig): TrustPolicy {
  return {
    replicate_until: c.trust.replicate_until,
    spot_check_rate: c.trust.spot_check_rate,
    quorum: c.verification.quorum,
    tolerance: c.verification.tolerance,
    ban_after_faults: c.trust.ban_after_faults,
    baseline_owners: c.trust.baseline_owners,
    max_class_weight: c.trust.max_class_weight,
    replay_tolerance: c.trust.replay_tolerance,
    deterministic_backends: c.trust.deterministic_backends,
    ban_forfeits: c.trust.ban_forfeits,
    spot_check_decay: c.trust.spot_check_decay,
    outvote_quorum: c.trust.outvote_quorum,
    agree_sigmas: c.verification.agree_sigmas,
  };
}

/** A trust_policy entry when the ledger's policy is not `policy` yet, else null. */
export function policyEntry(state: LedgerState, policy: TrustPolicy): NewEntry<'trust_policy'> | null {
  const now = state.trust.policy;
  const same = now && (Object.keys(policy) as (keyof TrustPolicy)[]).every((k) => JSON.stringify(now[k]) === JSON.stringify(policy[k]));
  return same ? null : { type: 'trust_policy', data: policy };
}

/**
 * Why a candidate's result that claims no improvement must be re-run by another owner before it
 * is discarded and credited, or null: every result of an owner without `replicate_until`
 * agreeing results, and a spot check (the unpredictable draw of ledger/trust.ts) of the rest.
 */
export function replicateDiscard(state: LedgerState, policy: TrustPolicy, owner: string | null, time: string, jobId: string): string | null {
  if (!owner) return 'its runner has no owner';
  const agreed = state.trust.owners.get(owner.toLowerCase())?.agreed ?? 0;
  if (!state.trust.trusted(owner, policy)) return `${owner}'s runners have ${agreed} of the ${policy.replicate_until} agreeing results after which only spot checks are made`;
  if (state.trust.drawn(time, jobId, policy, owner)) return `a spot check (rate ${+(state.trust.spotRateAt.get(jobId) ?? state.trust.spotRate(owner, policy)).toFixed(4)}) drew this result`;
  return null;
}

export interface Run {
  job_id: string;
  owner: string;
  /** null: the run failed */
  val_bpb: number | null;
}

export type Replicas =
  /** no two owners agree yet, or too few independent ones: run it on another owner's runner */
  | { kind: 'more'; reason: string; exclude_owners: string[] }
  /** independent owners agree on an improvement: merge on `group` */
  | { kind: 'merge'; group: Run[]; wrong: Run[]; score: number }
  /** they agree on no improvement (or a failure): discard; `wrong` were outvoted */
  | { kind: 'discard'; reason: string; group: Run[]; wrong: Run[]; claimWrong: boolean }
  /** the runs never agreed within the attempts allowed: discard, nobody faulted */
  | { kind: 'split'; reason: string };

const lower = (x: string) => x.toLowerCase();

/**
 * What the runs of one job (the claim first, then its replicas in order) establish. One run per
 * owner counts (the first); two runs agree within `tolerance` (runsAgree; the judge scales it
 * with the class's sigma). The largest group of runs agreeing with one of them (two at least;
 * ledger/agreement.ts, which the audit checks a fault by) is the evidence; a run agreeing with
 * none of the group is wrong (outvoted), once the group holds `outvote` runs (the trust policy's
 * outvote_quorum; until then another owner's run is asked for). The group's runs by owners other than
 * the PR's author are one step of the sequential test (decide.ts `step`): their mean merges once
 * it beats the baseline by `margin.k` standard errors with `quorum + 1` of them, is discarded
 * below the futility bound or at `seq.max_runs` runs, and asks for another owner's run otherwise.
 */
export function judgeReplicas(
  claim: Run,
  replicas: Run[],
  o: { scale: Scale | null; margin: Margin; seq: Sequential; quorum: number; tolerance: number; author: string | null; outvote?: number },
): Replicas {
  const seen = new Set<string>();
  const runs = [claim, ...replicas].filter((r) => !seen.has(lower(r.owner)) && seen.add(lower(r.owner)));
  const exclude = [...seen, ...(o.author ? [lower(o.author)] : [])];
  const group = largestAgreeingGroup(runs, (r) => r.val_bpb, o.tolerance);
  const more = (reason: string): Replicas =>
    runs.length >= o.seq.max_runs ? { kind: 'split', reason: `${reason}, after ${runs.length} runs by different owners` } : { kind: 'more', reason, exclude_owners: exclude };
  if (group.length < 2) return more(`the runs of ${runs.map((r) => `${r.owner} (${r.val_bpb?.toFixed(4) ?? 'failed'})`).join(', ')} do not agree within ${o.tolerance.toFixed(4)}`);
  const wrong = runs.filter((r) => agreesWithMember(r.val_bpb, group.map((g) => g.val_bpb), o.tolerance) < 0);
  // a run is outvoted (a fault, and its score set aside) only by `outvote` owners who agree: two alone could be a colluding pair
  const outvote = o.outvote ?? 2;
  if (wrong.length && group.length < outvote) {
    return more(`${wrong.map((r) => `${r.owner} (${r.val_bpb?.toFixed(4) ?? 'failed'})`).join(', ')} disagree${wrong.length === 1 ? 's' : ''} with ${group.map((g) => `${g.owner} (${g.val_bpb?.toFixed(4) ?? 'failed'})`).join(', ')}: ${outvote} owners must agree before a run is outvoted`);
  }
  const claimWrong = wrong.some((r) => r.job_id === claim.job_id);
  if (group.some((g) => g.val_bpb === null)) return { kind: 'discard', reason: 'the run fails on independent runners', group, wrong, claimWrong };
  const counted = group.filter((g) => !o.author || lower(g.owner) !== lower(o.author));
  const mean = (xs: Run[]) => xs.reduce((a, g) => a + (g.val_bpb as number), 0) / xs.length;
  if (!o.scale) return { kind: 'discard', reason: `independent runs agree on val_bpb ${mean(group).toFixed(4)}, which has no baseline to beat`, group, wrong, claimWrong };
  if (!counted.length) return more('no run of an owner other than the PR\'s author agrees yet');
  const m = mean(counted);
  const s = step(o.scale, m, counted.length, o);
  if (s.kind === 'merge') return { kind: 'merge', group, wrong, score: m };
  if (s.kind === 'discard') return { kind: 'discard', reason: `independent runs average val_bpb ${m.toFixed(4)}: ${s.why}`, group, wrong, claimWrong };
  return more(`the mean of ${counted.length} independent runs, ${m.toFixed(4)}, beats the baseline ${o.scale.mean.toFixed(4)} by ${s.z.toFixed(2)} standard errors; a merge needs ${widen(o.margin.k, o.scale.df).toFixed(2)}${counted.length < o.quorum + 1 ? ` and ${o.quorum + 1} owners other than the PR's author` : ''}`);
}

/**
 * The entries a fault brings: `owner_faulted` for each outvoted run, the owner's unconfirmed
 * results reversed (granted ones in full, pending ones at 0 so they never earn), and a ban when
 * the owner reaches `ban_after_faults`.
 */
export function faultEntries(state: LedgerState, policy: TrustPolicy, claimJobId: string, wrong: Run[], group: Run[], reason: string, tolerance?: number, test?: Pick<EntryDataOf<'owner_faulted'>, 'shading' | 'flat'>): NewEntry[] {
  // `state` is the ledger before this append: a result recorded with the fault (the run that
  // settled it) is not in it, and an outvoted one of those stays unpaid through the fault itself.
  const out: NewEntry[] = [];
  for (const w of wrong) {
    // a run its replays reproduced bit for bit did the training it reports: outvoted (a schedule
    // trained short: replays.ts shortSchedule), it counts for nothing, but it is no fault (the audit refuses one)
    if (state.trust.replays.get(w.job_id)?.verdict === 'agreed') continue;
    out.push({ type: 'owner_faulted', data: { login: w.owner, job_id: w.job_id, claim_job_id: claimJobId, agreed_job_ids: group.map((g) => g.job_id), reason, ...(tolerance !== undefined ? { tolerance } : {}), ...test } });
    for (const [jobId, r] of state.results) {
      if (!r.data.validated || !r.data.runner_owner || lower(r.data.runner_owner) !== lower(w.owner)) continue;
      if ((state.trust.checked.has(jobId) && jobId !== w.job_id) || state.reversals.has(jobId) || reversedIn(out, jobId)) continue;
      const granted = state.grants.get(jobId)?.data.amount ?? 0;
      out.push({ type: 'credit_reversed', data: { login: r.data.runner_owner, amount: granted, job_id: jobId, reason: `fault: ${reason}` } });
    }
    const faults = (state.trust.owners.get(lower(w.owner))?.faults ?? 0) + 1;
    if (faults >= policy.ban_after_faults && !state.trust.banned(w.owner)) out.push(...banEntries(state, policy, w.owner, `${faults} faults, the last on job ${w.job_id}`, out));
  }
  return out;
}

const reversedIn = (news: NewEntry[], jobId: string) => news.some((n) => n.type === 'credit_reversed' && (n.data as EntryDataOf<'credit_reversed'>).job_id === jobId);

/**
 * `owner_banned`, then (under `ban_forfeits`) the forfeit of every credit granted to the owner
 * that no bit-exact replay proved (TrustBook.proven) and that neither the ledger nor `pending`
 * (the entries appended with the ban) reverses already. A score another owner agreed with shows
 * only that the score was plausible: a proven cheat keeps nothing it cannot show it trained for
 * (docs/trust.md, "A ban forfeits"). The audit checks the same set.
 */
export function banEntries(state: LedgerState, policy: TrustPolicy, owner: string, reason: string, pending: NewEntry[] = []): NewEntry[] {
  const out: NewEntry[] = [{ type: 'owner_banned', data: { login: owner, reason } }];
  if (!policy.ban_forfeits) return out;
  for (const jobId of state.forfeitable(owner)) {
    if (reversedIn(pending, jobId)) continue;
    out.push({ type: 'credit_reversed', data: { login: state.grants.get(jobId)!.data.login, amount: state.grants.get(jobId)!.data.amount, job_id: jobId, reason: `forfeit: ${owner} is banned (${reason}) and no bit-exact replay proved this run` } });
  }
  return out;
}

/**
 * The ban a forged result brings (a result_recorded entry with `forgery`, which ledger/trust.ts
 * counts as a fault): `owner_banned` once the owner's faults, this one included, reach
 * `ban_after_faults`. Under no trust policy, nothing (a forgery is refused and its owner's credits
 * reversed all the same: ledger/credits.ts reversalsForForgery).
 */
export function forgeryBan(state: LedgerState, policy: TrustPolicy | null, owner: string, jobId: string, pending: NewEntry[] = []): NewEntry[] {
  if (!policy || state.trust.banned(owner)) return [];
  const faults = (state.trust.owners.get(lower(owner))?.faults ?? 0) + 1;
  return faults >= policy.ban_after_faults ? banEntries(state, policy, owner, `${faults} faults, the last a forged result on job ${jobId}`, pending) : [];
}

/** The runs of a claim recorded so far: the claim, then its validated replicas (verify jobs of it) in order. */
export function runsOf(state: LedgerState, jobs: Map<string, EntryDataOf<'job_dispatched'>>, claimJobId: string): { claim: Run | null; replicas: Run[]; cls: string | null } {
  const score = (d: EntryDataOf<'result_recorded'>) => (d.result?.status === 'ok' ? d.result.val_bpb : null);
  const c = state.results.get(claimJobId)?.data;
  if (!c?.validated || !c.result || !c.runner_owner) return { claim: null, replicas: [], cls: null };
  const replicas: Run[] = [];
  for (const { data: r } of state.results.values()) {
    if (r.role !== 'verify' || !r.validated || !r.result || !r.runner_owner || jobs.get(r.job_id)?.verifies !== claimJobId) continue;
    // a harness error is no run of the claim: outcome() ran the job again instead of counting it; a
    // replay of the claim is no independent sample of it (a claim whose discard a replay could not prove: replays.ts shortSchedule)
    if (r.result.failure?.kind === 'harness_error' || jobs.get(r.job_id)?.replay) continue;
    if (r.result.hardware_class !== c.result.hardware_class) continue;
    // a banned owner's runs never count (ledger/audit.ts refuses a merge that cites one)
    if (state.trust.banned(r.runner_owner)) continue;
    // nor a run its own replays did not reproduce, or that no replay could be had for (app/policy/side-replays.ts)
    const replayed = state.trust.replays.get(r.job_id)?.verdict;
    if (replayed === 'outvoted' || replayed === 'not_replayable' || replayAbandoned(state, r.job_id) || (state.trust.replayDue.has(r.job_id) && replayInfeasible(state, r))) continue;
    replicas.push({ job_id: r.job_id, owner: r.runner_owner, val_bpb: score(r) });
  }
  return { claim: { job_id: claimJobId, owner: c.runner_owner, val_bpb: score(c) }, replicas, cls: c.result.hardware_class };
}



/**
 * Replay jobs run for one baseline or verify run before it is given up (left unconfirmed: it never
 * counts or earns): the four replays a disputed verdict may take under `outvote_quorum` 3, and two
 * that do not count (5 while a dispute took at most two).
 */
export const SIDE_REPLAY_ATTEMPTS = 6;

/**
 * Whether a run that must be replayed was given up: SIDE_REPLAY_ATTEMPTS replay jobs of it ran on
 * some owner's runner (replaysRun) and ended without a verdict (rejected, refused), and none is
 * open; or no replay on its class can reproduce it (replayInfeasible). It never counts then.
 */
export function replayAbandoned(state: LedgerState, jobId: string): boolean {
  const t = state.trust;
  if (!t.replayDue.has(jobId) || t.replays.has(jobId)) return false;
  const r = state.results.get(jobId)?.data;
  if (r && replayInfeasible(state, r)) return true;
  const ids = t.replayJobs.get(jobId) ?? [];
  return (replaysRun(state, ids) >= SIDE_REPLAY_ATTEMPTS || ids.length >= 2 * SIDE_REPLAY_ATTEMPTS) && ids.every((j) => state.results.has(j));
}

/**
 * Replay jobs among `ids` that a runner ran (a result of some owner, valid or not). A job closed at
 * its deadline with no runner does not count: its owner was busy, which says nothing of the run
 * (counting those gave baseline runs up in a small swarm, and their replacements needed replays
 * in turn: 1,028 replays for 12 PRs).
 */
export function replaysRun(state: LedgerState, ids: readonly string[]): number {
  return ids.filter((j) => state.results.get(j)?.data.runner_owner).length;
}

/** A run this many times faster (tokens/s) than the runs it is compared with (below) did not train on their class. */
export const INFEASIBLE_PACE = 4;

/**
 * Whether a verify run cannot be replayed on its class: it reports more than INFEASIBLE_PACE times
 * the tokens/s of the claim it verifies (the same train.ts on the same class; a baseline run is
 * compared with the other runs of its commit: side-replays.ts), so it trained on a faster machine than the class it
 * registered (a class liar); a replay on the class would run past the job's timeout (a GPU's
 * schedule takes a CPU of the class ~16 times the budget). It is given up at once: it never counts.
 */
export function replayInfeasible(state: LedgerState, d: Pick<EntryDataOf<'result_recorded'>, 'result' | 'role' | 'job_id'>): boolean {
  const r = d.result;
  if (!r) return false;
  // a verify run against the claim it verifies (the same train.ts: a PR may change the model's speed); a baseline run against the class's baseline
  const claimId = d.role === 'verify' ? state.dispatched.get(d.job_id)?.verifies : undefined;
  const claim = claimId ? state.results.get(claimId)?.data.result : undefined;
  const ref = claim?.hardware_class === r.hardware_class ? claim.tokens_per_second : undefined;
  return !!ref && r.tokens_per_second > INFEASIBLE_PACE * ref;
}
