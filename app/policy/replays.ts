// Replays, the App's side (docs/trust.md, "Replays"). A trust check re-runs a result with the
// same training seed, eval seed, budget and progress schedule on a runner of another owner of
// the class: on a deterministic backend (wasm, cpu) the checkpoint comes out bit-identical
// whatever the pace of either machine, so a run that never trained cannot survive it. What proves
// the training (the checkpoint's sha256) is sealed to the App's key (trainer/seal.ts) and opened
// here; it is revealed in the ledger only in the entry that judges the run's replays.
//
// Pure, over the ledger view and the App's seal key: the intake's check of a sealed box, which
// results can be replayed, and the verdict on a replay run (ledger/replays.ts holds the rule the
// audit recomputes).
import { DEFAULT_OUTVOTE_QUORUM, digestCommitment, maxReplayRuns, replaysAgree, replayBy, replayVerdict, type EntryDataOf, type NewEntry, type ReplayBy, type ReplayRun, type TrustPolicy } from '../../ledger/index.js';
import type { ReplayVerdict } from '../../ledger/replays.js';
import { SHADING_Z, shadingCrossed } from '../../ledger/shading.js';
import { shadingSampleOf } from '../../ledger/trust.js';
import type { ExperimentResult } from '../../trainer/result.js';
import { open, type SealKeyPair } from '../../trainer/seal.js';
import type { ReplaySpec } from '../dispatch.js';
import type { Dispatched, LedgerView } from '../ledger-view.js';
import type { Baseline } from './baseline.js';
import { outcome, type Claim, type Outcome, type OutcomeSettings } from './outcome.js';
import { faultEntries, type Run } from './replication.js';
import type { ResultCheck } from './result-check.js';
import { shown } from './shown.js';
import { refusal, refusalReason } from './refusals.js';

const HEX64 = /^[0-9a-f]{64}$/;
const lower = (x: string) => x.toLowerCase();

/** What a run sealed to the App: its job's nonce, its checkpoint's digest and its score. */
export interface SealedContent {
  nonce: string;
  digest: string;
  val_bpb: number | null;
}

/** Opens and parses a sealed box; throws one error naming what is wrong. */
export function openSealed(keys: SealKeyPair, sealed: string): SealedContent {
  const text = open(keys, sealed);
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    throw new Error('the sealed box does not hold JSON');
  }
  const o = c as Partial<SealedContent>;
  if (!o || typeof o.nonce !== 'string' || typeof o.digest !== 'string' || !HEX64.test(o.digest) || !(o.val_bpb === null || typeof o.val_bpb === 'number')) {
    throw new Error('the sealed box does not hold {"nonce","digest" (a lowercase hex sha256),"val_bpb"}');
  }
  return { nonce: o.nonce, digest: o.digest, val_bpb: o.val_bpb };
}

/**
 * Whether a result carries what its dispatch asked of it for replays: the schedule it was told
 * to replay (`replay.of`), and, when the run was given the App's seal key, its checkpoint digest
 * sealed to that key with its own nonce and score, and never in clear. `digest`: the opened digest
 * (kept secret: the result entry records only its commitment), or null.
 */
export function checkSeal(r: ExperimentResult, job: Pick<Dispatched, 'job_id' | 'seal_key' | 'replay'>, keys: SealKeyPair | null): { problem: string; digest: null; fault: boolean } | { problem: null; digest: string | null } {
  // `fault`: what no honest harness writes (a sealed box of another run, a digest in clear, another schedule): a fault of the owner
  const bad = (problem: string, fault = false) => ({ problem, digest: null, fault }) as const;
  const asked = job.replay ?? null;
  if (r.replay && (r.replay.of ?? null) !== asked) {
    return bad(asked ? `replay.of is not the schedule this job was dispatched to replay` : `replay.of names a schedule, but this job was dispatched as a run on the clock`, true);
  }
  if (asked && r.status === 'ok' && !r.replay) return bad('the job was dispatched as a replay, but result.json carries no replay block (the harness writes one)');
  if (!job.seal_key) return { problem: null, digest: null };
  if (r.replay?.digest !== undefined) return bad('replay.digest is in clear although the run was given the App\'s seal key: the digest must be sealed (replay.sealed), or anyone reading the artifact could copy it', true);
  // a job dispatched with another key (the App's key changed since): nothing to open it with
  if (!keys || keys.publicKey !== job.seal_key) return { problem: null, digest: null };
  if (!r.replay?.sealed) {
    return r.status === 'ok' ? bad('the run was given the App\'s seal key but result.json carries no replay.sealed (the checkpoint digest the harness seals to it)') : { problem: null, digest: null };
  }
  let c: SealedContent;
  try {
    c = openSealed(keys, r.replay.sealed);
  } catch (e) {
    return bad(`replay.sealed: ${(e as Error).message}`);
  }
  if (c.nonce !== job.job_id) return bad(`replay.sealed was sealed for job ${c.nonce}, not this job ${job.job_id}: a sealed box copied from another run`, true);
  if (c.val_bpb !== r.val_bpb) return bad(`replay.sealed holds val_bpb ${c.val_bpb}, but result.json says ${r.val_bpb}`, true);
  return { problem: null, digest: c.digest };
}

/** The digest a recorded result sealed, opened again (null: none, or not openable with `keys`). */
export function sealedDigest(d: EntryDataOf<'result_recorded'>, keys: SealKeyPair | null): string | null {
  const sealed = d.result?.replay?.sealed;
  if (!keys || !sealed || !d.digest_commitment) return null;
  try {
    const c = openSealed(keys, sealed);
    return digestCommitment(c.digest, d.job_id) === d.digest_commitment ? c.digest : null;
  } catch {
    return null;
  }
}

/**
 * How a validated result is replayed: its seeds and schedule, or null when it cannot be (failed,
 * no schedule, or no digest the App opened (`sealed`): an older harness, a run without the App's
 * key). Such a result is checked by a fresh-seed re-run, as before replays.
 */
export function replaySpecFor(r: ExperimentResult | null, sealed: boolean): ReplaySpec | null {
  if (!sealed || !r || r.status !== 'ok' || !r.replay?.schedule || r.eval_seed === null) return null;
  return { schedule: r.replay.schedule, seed: r.seed, eval_seed: r.eval_seed };
}

export interface ReplayJudged {
  out: Outcome;
  /** entries to record with the result, after it */
  news: NewEntry[];
  /** the replay the next verify job of this PR repeats (another owner's), or null for a run on the clock */
  replay: ReplaySpec | null;
}

interface Counted {
  job_id: string;
  owner: string;
  result: ExperimentResult;
}

/**
 * Why a replay run does not count as one (the original's owner, the PR's author, an owner who
 * replayed it already, another class, or another backend on a deterministic backend), or
 * null.
 */
function notIndependent(orig: Counted, prior: Counted[], owner: string | null, r: ExperimentResult, author: string | null, by: ReplayBy, banned: (o: string) => boolean): string | null {
  if (!owner) return 'the replay ran on a runner of no known owner';
  if (banned(owner)) return `${owner} is banned`;
  if (lower(owner) === lower(orig.owner)) return `the replay ran on a runner of ${owner}, who ran the original`;
  if (author && lower(owner) === lower(author)) return `the replay ran on a runner of ${owner}, the PR's author`;
  if (prior.some((p) => lower(p.owner) === lower(owner))) return `${owner} already replayed this run`;
  if (r.hardware_class !== orig.result.hardware_class) return `the replay ran on ${r.hardware_class}, not the original's ${orig.result.hardware_class}`;
  // the thread count does not change the bits (measured: the same checkpoint on 1, 2, 3 and 8
  // kernel threads, test/trainer/replay-threads.test.ts); the backend does
  if (by === 'digest' && r.backend !== orig.result.backend) {
    return `the replay ran on ${shown(r.backend)}, the original on ${shown(orig.result.backend)}: a checkpoint is reproducible only on the same backend`;
  }
  return null;
}

/** What a replay run establishes about its original (the rule of ledger/replays.ts), before any outcome for the PR. */
export type ReplayStep =
  /** the run does not count as a replay (rejected, or not independent): the same replay runs again elsewhere */
  | { kind: 'again'; reason: string; uncounted: boolean }
  /** a replay disagrees and no group holds the policy's outvote quorum yet: another owner's replay */
  | { kind: 'pending'; reason: string }
  | { kind: 'judged'; verdict: 'agreed' | 'outvoted' | 'not_replayable'; reason: string; news: NewEntry[]; runs: ReplayRun[]; ownerOf: (id: string) => string };

export interface ReplayInput {
  job: Dispatched;
  checked: ResultCheck;
  runnerOwner: string | null;
  author: string | null;
  digest: string | null;
  /** the owners who refused this replay before, this run's among them (app/policy/refusals.ts): their first refusals are no attempts, the next one avoids them */
  refused?: string[];
}

/**
 * Judges a replay run (a verify job dispatched with `replay`) against its original and the replays
 * of it before (ledger/replays.ts): whether it counts, and once a verdict is reached, the
 * verdict entry (revealing the digests), the faults of the outvoted (faultEntries) and, for a run
 * that is not replayable, its original's zero reversal. `orig`: the original's recorded result.
 */
export function replayStep(view: LedgerView, orig: Counted & { rec: EntryDataOf<'result_recorded'> }, x: ReplayInput, o: { keys: SealKeyPair | null; policy: TrustPolicy }): ReplayStep {
  const { job, checked } = x;
  // a harness error is no replay: it reproduces nothing, and counting it opened a dispute that faulted its owner
  if (!checked.validated || !checked.result || refusal(checked)) return { kind: 'again', reason: refusalReason(checked), uncounted: true };
  const by = replayBy(orig.result.backend, o.policy.deterministic_backends);
  const tolerance = by === 'digest' ? 0 : (o.policy.replay_tolerance ?? 0);
  const banned = (who: string) => view.state.trust.banned(who) !== null;
  const prior: Counted[] = [];
  for (const id of view.state.trust.replayJobs.get(orig.job_id) ?? []) {
    const d = view.state.results.get(id)?.data;
    const j = view.jobs.get(id);
    if (!d || d.role !== 'verify' || !d.validated || !d.result || refusal(d) || !j?.replay || j.verifies !== orig.job_id) continue;
    if (!notIndependent(orig, prior, d.runner_owner, d.result, x.author, by, banned)) prior.push({ job_id: d.job_id, owner: d.runner_owner!, result: d.result });
  }
  const r = checked.result;
  const refused = notIndependent(orig, prior, x.runnerOwner, r, x.author, by, banned);
  if (refused) return { kind: 'again', reason: refused, uncounted: true };
  const digests = [sealedDigest(orig.rec, o.keys), ...prior.map((p) => sealedDigest(view.state.results.get(p.job_id)!.data, o.keys)), x.digest];
  const counted: Counted[] = [orig, ...prior, { job_id: job.job_id, owner: x.runnerOwner!, result: r }].slice(0, maxReplayRuns(o.policy.outvote_quorum));
  const runs: ReplayRun[] = counted.map((c, i) => ({ job_id: c.job_id, digest: digests[i], val_bpb: c.result.status === 'ok' ? c.result.val_bpb : null }));
  const v = replayVerdict(runs, by, tolerance, o.policy.outvote_quorum);
  const how = by === 'digest' ? 'the same checkpoint' : `val_bpb within ${tolerance}`;
  if (v.verdict === 'pending') {
    const q = o.policy.outvote_quorum ?? DEFAULT_OUTVOTE_QUORUM;
    const what = replaysAgree(runs[0], runs[runs.length - 1], by, tolerance) ? `reproduced the run of ${orig.owner}, which an earlier replay did not` : `did not reproduce the run of ${orig.owner}`;
    return { kind: 'pending', reason: `a replay by ${x.runnerOwner} ${what} (${how}); another owner's replay is run until ${q} owners agree` };
  }
  const ownerOf = (id: string) => counted.find((c) => c.job_id === id)!.owner;
  const reason =
    v.verdict === 'agreed'
      ? `a replay by ${v.group.filter((g) => g !== orig.job_id).map(ownerOf).join(' and ')} reproduced the run of ${orig.owner} (${how})`
      : v.verdict === 'outvoted'
        ? `replays by ${v.group.map(ownerOf).join(' and ')} agree (${how}) and do not reproduce the run of ${v.outvoted.map(ownerOf).join(' and ')}`
        : `not replayable: the original and its replays by ${counted.slice(1).map((c) => c.owner).join(' and ')} all differ, so train.ts depends on something besides its seeds and progress schedule (e.g. the wall clock)`;
  const news: NewEntry[] = [
    {
      type: 'replay_judged',
      data: { job_id: orig.job_id, replay_job_ids: counted.slice(1).map((c) => c.job_id), digests: runs.map((x) => x.digest), by, tolerance, verdict: v.verdict, outvoted: v.outvoted, reason },
    },
  ];
  const asRun = (id: string): Run => ({ job_id: id, owner: ownerOf(id), val_bpb: runs.find((x) => x.job_id === id)!.val_bpb });
  if (v.outvoted.length) news.push(...faultEntries(view.state, o.policy, orig.job_id, v.outvoted.map(asRun), v.group.map(asRun), `outvoted on job ${orig.job_id}: ${reason}`));
  news.push(...shadingFault(view, o.policy, orig, v, runs, by === 'digest' ? null : tolerance, news));
  if (v.verdict === 'not_replayable' && !view.state.reversals.has(orig.job_id)) {
    news.push({ type: 'credit_reversed', data: { login: orig.owner, amount: view.state.grants.get(orig.job_id)?.data.amount ?? 0, job_id: orig.job_id, reason } });
  }
  return { kind: 'judged', verdict: v.verdict, reason, news, runs, ownerOf };
}

/**
 * Why a verify run cannot be had at all: no owner outside `exclude` (the run's owner, the PR's
 * author, for a replay the owners who replayed it already; banned owners never count) has a
 * runner on the class. Sending the job to the class label only ran it on an excluded owner's
 * runner, refused, until max_attempts. A replay's dispute ends as it stands (the discard stays,
 * nobody is faulted or paid for it); a claim with no other class to run on is discarded.
 */
export function noVerifierReason(cls: string, exclude: string[], replay: boolean, quorum: number | undefined): string {
  const who = [...new Set(exclude)].sort();
  const list = who.length > 1 ? `${who.slice(0, -1).join(', ')} and ${who.at(-1)}` : (who[0] ?? 'nobody');
  const head = `no owner but ${list} has a runner on ${cls}`;
  return replay
    ? `${head}, so no independent replay can settle this run (a dispute is settled when ${quorum ?? DEFAULT_OUTVOTE_QUORUM} owners agree, trust.outvote_quorum): the class needs runners of more owners, or a swarm this small can set outvote_quorum: 2`
    : `${head}, so no independent run can verify the claim, and no other class with a baseline of the commit has runners of two owners to run it: push again once another owner's runner has joined ${cls}`;
}

/** The original a replay job replays, as recorded, or null when it is not in the ledger. */
export function originalOf(view: LedgerView, job: Dispatched): (Counted & { rec: EntryDataOf<'result_recorded'> }) | null {
  const rec = job.verifies ? view.state.results.get(job.verifies)?.data : undefined;
  if (!rec?.validated || !rec.result || !rec.runner_owner) return null;
  return { job_id: rec.job_id, owner: rec.runner_owner, result: rec.result, rec };
}

/**
 * The verdict on a replay run of a candidate's result (a verify job dispatched with `replay`): compared with the original
 * (and the replays before it) by ledger/replays.ts. A replay that disagrees brings another
 * owner's replay until `outvote_quorum` owners agree; they outvote the runs that agree with none
 * of them (a fault through faultEntries); no group that can reach the quorum means the candidate
 * is not replayable (nobody faulted, the original earns nothing). The verdict entry reveals the digests. The experiment's outcome: the
 * original's discard stands when it was reproduced; when it was outvoted, the agreeing replays'
 * score is judged as the experiment's first run (a claim is then verified by fresh-seed runs: a
 * replay is no independent sample).
 */
export function judgeReplay(
  view: LedgerView,
  x: ReplayInput,
  o: { keys: SealKeyPair | null; settings: OutcomeSettings; policy: TrustPolicy; baseline: Baseline | null; classSigma: { sigma: number; df: number } | null },
): ReplayJudged {
  const { job, checked } = x;
  const again: ReplaySpec | null = job.replay && job.seed !== undefined ? { schedule: job.replay, seed: job.seed, eval_seed: job.eval_seed } : null;
  const orig = originalOf(view, job);
  if (!orig) return { out: { kind: 'give_up', reason: 'a replay whose original run is not in the ledger' }, news: [], replay: null };
  const claim: Claim = { job_id: orig.job_id, val_bpb: orig.result.status === 'ok' ? orig.result.val_bpb : null, hardware_class: orig.result.hardware_class, runner_owner: orig.owner };
  const base = { role: 'candidate' as const, validated: true, reason: null, attempt: 1, baseline: o.baseline, classSigma: o.classSigma, claim: null, replicas: [], author: x.author };
  const prior = (view.state.trust.replayJobs.get(orig.job_id) ?? []).map((id) => view.state.results.get(id)?.data.runner_owner).filter((w): w is string => !!w);
  const exclude = [...new Set([orig.owner, ...prior, ...(x.runnerOwner ? [x.runnerOwner] : []), ...(x.author ? [x.author] : [])])];
  if (!checked.validated || !checked.result || refusal(checked)) {
    // rejected (or a harness error): the same replay again on a runner of an owner who may replay it and has not refused it (outcome: retry), or give up after max_attempts
    const refused = x.refused ?? [];
    const out = outcome({ ...base, role: 'verify', validated: false, reason: refusalReason(checked), result: null, attempt: job.attempt - refused.length, runnerOwner: x.runnerOwner }, o.settings);
    return { out: out.kind === 'retry' && x.runnerOwner ? { ...out, elsewhere: x.runnerOwner, avoid: [...new Set([...refused, ...exclude])] } : out, news: [], replay: again };
  }
  const step = replayStep(view, orig, x, o);
  if (step.kind === 'again') return { out: { kind: 'verify_again', reason: step.reason, claim, exclude_owners: exclude, uncounted: true }, news: [], replay: again };
  if (step.kind === 'pending') return { out: { kind: 'verify_again', reason: step.reason, claim, exclude_owners: exclude }, news: [], replay: again };
  const { news, reason } = step;
  if (step.verdict === 'not_replayable') return { out: { kind: 'discard', reason, val_bpb: null, threshold: null }, news, replay: null };
  if (step.verdict === 'agreed') {
    const first = outcome({ ...base, result: orig.result, runnerOwner: orig.owner }, o.settings);
    // compared by val_bpb, agreeing runs differ by up to replay_tolerance: the discard stands only
    // if every one of them fails the screen, else a score shaded worse within the tolerance (a
    // saboteur's, a lazy owner's guess) discarded a run whose honest replay was a claim
    const claimed = first.kind === 'discard' ? screenedBy(step, orig.job_id, (r) => outcome({ ...base, result: r, runnerOwner: null }, o.settings), orig.result) : null;
    if (claimed) return { out: { kind: 'verify', threshold: claimed.threshold, delta: claimed.delta, exclude_owners: exclude }, news, replay: null };
    // a schedule an honest machine of the class trains in a fraction of the budget proves no discard: fresh-seed runs of other owners judge it
    const short = first.kind === 'discard' ? shortSchedule(view, step, x, orig) : null;
    if (short) return { out: { kind: 'verify_again', reason: short, claim, exclude_owners: exclude }, news, replay: null };
    // the original's discard stands: it was reproduced
    const out: Outcome = first.kind === 'discard' ? { ...first, reason: `${first.reason}; ${reason}` } : { kind: 'discard', reason: `val_bpb ${claim.val_bpb?.toFixed(4)}: ${reason}`, val_bpb: claim.val_bpb, threshold: null };
    return { out, news, replay: null };
  }
  // the original was outvoted: the agreeing replays' score is the experiment's first honest run
  const first = outcome({ ...base, result: checked.result, runnerOwner: x.runnerOwner }, o.settings);
  if (first.kind === 'discard') return { out: { ...first, reason: `${first.reason} (${reason})` }, news, replay: null };
  if (first.kind === 'verify' || first.kind === 'merge') {
    return { out: { kind: 'verify', threshold: first.threshold, delta: first.kind === 'verify' ? first.delta : null, exclude_owners: exclude }, news, replay: null };
  }
  return { out: first, news, replay: null };
}

/** An agreeing replay that trained the run's schedule in less than this share of the budget shows the run trained short (see shortSchedule). */
export const SHORT_SCHEDULE = 0.5;

/**
 * Why an agreed discard proves nothing, or null: a replay trains the original's schedule (its steps
 * and progress values) whatever its own pace, so a run that trained a few steps of a real
 * improvement, reported them as the schedule of a slow budget with a quiet machine's calibration,
 * and the honest score of that barely trained model was reproduced bit for bit, and its discard
 * stood (red team, session 21: test/app/red-team-short-schedule.test.ts). The replay's clock tells
 * it: an agreeing replay trained that schedule in under SHORT_SCHEDULE of the budget, so the run
 * trained at under half its class's pace, which its calibration did not show. Nobody is faulted
 * for it (a load that came and went between the calibrations looks the same); the PR's fresh-seed
 * runs by other owners decide, and outvote a saboteur's run as for any other.
 */
function shortSchedule(view: LedgerView, step: Extract<ReplayStep, { kind: 'judged' }>, x: ReplayInput, orig: Counted): string | null {
  const verdict = step.news.find((n) => n.type === 'replay_judged')?.data as EntryDataOf<'replay_judged'> | undefined;
  const budget = orig.result.budget_seconds;
  for (const r of step.runs) {
    if (r.job_id === orig.job_id || verdict?.outvoted.includes(r.job_id)) continue;
    const res = r.job_id === x.job.job_id ? x.checked.result : view.state.results.get(r.job_id)?.data.result;
    if (!res || res.train_seconds >= SHORT_SCHEDULE * budget) continue;
    return `a replay by ${step.ownerOf(r.job_id)} trained the schedule of ${orig.owner}'s run (${res.steps} steps) in ${res.train_seconds.toFixed(1)} s of its ${budget} s budget: that run trained a fraction of what its class trains in the budget, so its score is no discard; other owners run the PR with fresh seeds`;
  }
  return null;
}

/**
 * A run of an agreeing val_bpb verdict (the original's replays the verdict kept) whose score passes
 * the screen when the original's did not: its first-run outcome, or null. On a digest verdict the
 * runs are one checkpoint, so there is nothing to find.
 */
function screenedBy(step: Extract<ReplayStep, { kind: 'judged' }>, origId: string, first: (r: ExperimentResult) => Outcome, orig: ExperimentResult): { threshold: number | null; delta: number | null } | null {
  const verdict = step.news.find((n) => n.type === 'replay_judged')?.data as EntryDataOf<'replay_judged'> | undefined;
  if (!verdict || verdict.by !== 'val_bpb' || orig.status !== 'ok' || orig.val_bpb === null) return null;
  const own = orig.val_bpb;
  for (const r of step.runs) {
    if (r.job_id === origId || r.val_bpb === null || verdict.outvoted.includes(r.job_id) || r.val_bpb >= own) continue;
    const out = first({ ...orig, val_bpb: r.val_bpb });
    if (out.kind === 'verify' || out.kind === 'merge') return { threshold: out.threshold, delta: out.kind === 'verify' ? out.delta : null };
  }
  return null;
}

/**
 * The fault a val_bpb verdict brings when it completes a pattern (ledger/shading.ts): the
 * original agreed with its replays, but its owner's scores have sat on the side that hurts
 * improvements, by SHADING_Z standard errors of an honest pair over SHADING_MIN_PAIRS samples or
 * more. `pending`: the entries recorded with it (a fault among them resets the test: none then).
 */
function shadingFault(view: LedgerView, policy: TrustPolicy, orig: Counted & { rec: EntryDataOf<'result_recorded'> }, v: ReplayVerdict, runs: ReplayRun[], tolerance: number | null, pending: NewEntry[]): NewEntry[] {
  if (tolerance === null || !tolerance || view.state.trust.banned(orig.owner)) return [];
  if (pending.some((e) => e.type === 'owner_faulted' && (e.data as EntryDataOf<'owner_faulted'>).login.toLowerCase() === orig.owner.toLowerCase())) return [];
  const resultOf = (id: string) => (id === orig.job_id ? { seq: 0, time: '', data: orig.rec } : view.state.results.get(id));
  const sample = shadingSampleOf(orig.job_id, v, runs, tolerance, resultOf);
  const test = sample ? view.state.trust.shadingOf(orig.owner, sample) : null;
  if (!test || !shadingCrossed(test)) return [];
  const reason = `shading: ${orig.owner}'s last ${test.n} replayed scores sat ${(test.mean * 1000).toFixed(1)} mbpb on the side that hurts improvements (worse first and verify runs, better baseline runs), ${test.z.toFixed(1)} standard errors of an honest same-seed pair (${SHADING_Z} fault), each within the replay tolerance ${tolerance}`;
  const own = (id: string): Run => ({ job_id: id, owner: orig.owner, val_bpb: null });
  return faultEntries(view.state, policy, orig.job_id, [own(orig.job_id)], test.job_ids.map(own), reason, undefined, { shading: { n: test.n, mean: test.mean, sigma: test.sigma, z: test.z } });
}
