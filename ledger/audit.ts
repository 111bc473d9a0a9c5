// The full check behind `npm run ledger -- verify`: the hash chain, then every credit movement
// replayed in order against what the ledger before it supports.
import { verifyChain, type ChainCheck, type ChainHead } from './chain.js';
import { SHADING_MIN_PAIRS, SHADING_Z, shadingCrossed } from './shading.js';
import { flatFaultProblem } from './flat-scores.js';
import { FREE_TIER_REASON, LedgerState, type Balance } from './credits.js';
import type { EntryDataOf, LedgerEntry } from './entries.js';
import { agreesWithMember, isAgreeingGroup, widen } from './agreement.js';
import { digestCommitment, replayBy, replayVerdict } from './replays.js';
import { replayRuns, runsAgree, type TrustBook } from './trust.js';
import { reuseProblem, sampleSetProblem } from './baseline-reuse.js';

export interface AuditPolicy {
  /** how far below zero a spend may take a balance (default 0: no debt) */
  maxOverdraft?: number;
  /** free-tier runs per login per UTC day; unset: not checked */
  freeRunsPerDay?: number;
  /** a head recorded earlier (leaderboard build, witness attestation) that the chain must still contain */
  knownHead?: ChainHead;
}

export type AuditResult = (ChainCheck & { ok: true; balances: Map<string, Balance> }) | (ChainCheck & { ok: false });

const EPS = 1e-9;

export function auditLedger(entries: LedgerEntry[], policy: AuditPolicy = {}): AuditResult {
  const chain = verifyChain(entries, policy.knownHead);
  if (!chain.ok) return chain;
  const credits = replayCredits(entries, policy);
  return credits.ok ? { ...chain, balances: credits.balances } : credits;
}

/**
 * Replays every credit movement against what the ledger before it supports. Reads only the
 * fields credits depend on (a result's train_seconds and hardware_class, not its loss curve),
 * so it also runs on the slimmed entries of the parallel checkout verifier.
 */
export function replayCredits(entries: LedgerEntry[], policy: AuditPolicy = {}): { ok: true; balances: Map<string, Balance>; trust: TrustBook } | { ok: false; seq: number; problem: string } {
  const overdraft = policy.maxOverdraft ?? 0;
  const s = new LedgerState();
  const freeUsed = new Map<string, number>();
  const jobAuthors = new Map<string, string | null>();
  const jobBudgets = new Map<string, number>();
  for (const e of entries) {
    if (e.type !== 'job_dispatched') continue;
    const d = (e as LedgerEntry<'job_dispatched'>).data;
    jobAuthors.set(d.job_id, d.author);
    jobBudgets.set(d.job_id, d.budget_seconds);
  }
  // credits a ban under `ban_forfeits` must reverse (the job's id: the ban's seq and login), until a credit_reversed does
  const owed = new Map<string, { seq: number; login: string }>();
  const tolerances = new AppTolerance();
  for (const e of entries) {
    const problem = creditProblem(s, e, { overdraft, freeUsed, jobAuthors, jobBudgets, freePerDay: policy.freeRunsPerDay, tolerances });
    if (problem) return { ok: false, seq: e.seq, problem };
    if (e.type === 'owner_banned' && s.trust.policy?.ban_forfeits) {
      const login = (e as LedgerEntry<'owner_banned'>).data.login;
      for (const j of s.forfeitable(login)) owed.set(j, { seq: e.seq, login });
    }
    if (e.type === 'credit_reversed') owed.delete((e as LedgerEntry<'credit_reversed'>).data.job_id);
    s.apply(e);
    tolerances.applied(s, e);
  }
  for (const [jobId, o] of owed) {
    return { ok: false, seq: o.seq, problem: `owner_banned of ${o.login} leaves the credit of job ${jobId} (${s.grants.get(jobId)?.data.amount}) granted, though no bit-exact replay proved that run: the policy (ban_forfeits) reverses it` };
  }
  return { ok: true, balances: s.balances(), trust: s.trust };
}

function creditProblem(
  s: LedgerState,
  e: LedgerEntry,
  ctx: { overdraft: number; freeUsed: Map<string, number>; jobAuthors: Map<string, string | null>; jobBudgets: Map<string, number>; freePerDay?: number; tolerances: AppTolerance },
): string | null {
  switch (e.type) {
    case 'credit_granted':
      return s.grantProblem((e as LedgerEntry<'credit_granted'>).data);
    case 'credit_spent': {
      const d = (e as LedgerEntry<'credit_spent'>).data;
      if (!ctx.jobAuthors.has(d.job_id)) return `credit_spent by ${d.login} for job ${d.job_id}, but no job_dispatched entry has that job_id`;
      const author = ctx.jobAuthors.get(d.job_id);
      if (author !== d.login) return `credit_spent by ${d.login} for job ${d.job_id}, but that job's author is ${author ?? 'the swarm (null)'}`;
      if (d.reason !== FREE_TIER_REASON) {
        // one credit per second of budget (docs/ledger.md): anything less is a run paid for free, outside the free tier's count
        const budget = ctx.jobBudgets.get(d.job_id);
        if (budget !== undefined && Math.abs(d.amount - budget) > EPS) return `credit_spent of ${d.amount} by ${d.login} for job ${d.job_id}, but the job's budget is ${budget} s: a paid run costs its budget (only a free-tier spend may charge 0)`;
      }
      if (d.reason === FREE_TIER_REASON) {
        if (d.amount !== 0) return `a free-tier spend must have amount 0, found ${d.amount}`;
        const key = `${d.login} ${new Date(e.time).toISOString().slice(0, 10)}`;
        const used = (ctx.freeUsed.get(key) ?? 0) + 1;
        ctx.freeUsed.set(key, used);
        if (ctx.freePerDay !== undefined && used > ctx.freePerDay) return `${d.login} used free run ${used} on ${key.split(' ')[1]} but the free tier allows ${ctx.freePerDay} per day`;
        return null;
      }
      const a = s.account(d.login);
      const after = a.earned - a.spent - a.reversed - d.amount;
      if (after < -ctx.overdraft - EPS) return `credit_spent of ${d.amount} by ${d.login} takes the balance to ${after.toFixed(3)}, below the allowed ${-ctx.overdraft}`;
      return null;
    }
    case 'credit_reversed':
      return reversalProblem(s, (e as LedgerEntry<'credit_reversed'>).data);
    case 'experiment_merged': {
      const d = (e as LedgerEntry<'experiment_merged'>).data;
      return (s.trust.policy ? mergeProblem(s, d) : null) ?? reusedSamplesProblem(s, d);
    }
    case 'baseline_recorded': {
      const d = (e as LedgerEntry<'baseline_recorded'>).data;
      return reusedCitationsProblem(s, d) ?? (s.trust.policy ? baselineProblem(s, d) : null);
    }
    case 'result_recorded': {
      // a forgery is a fault of the runner's owner (ledger/trust.ts): only a refused result of a known owner can be one
      const d = (e as LedgerEntry<'result_recorded'>).data;
      if (d.forgery && (d.validated || !d.runner_owner)) return `result_recorded of job ${d.job_id} is marked a forgery, but it is ${d.validated ? 'validated' : 'of no runner owner'}: only a refused result of a registered owner's runner can fault its owner`;
      return null;
    }
    case 'owner_faulted': {
      const d = (e as LedgerEntry<'owner_faulted'>).data;
      return faultProblem(s, d) ?? (d.tolerance !== undefined ? ctx.tolerances.problem(s, `owner_faulted of ${d.login}`, d.tolerance, [d.claim_job_id, d.job_id, ...d.agreed_job_ids]) : null);
    }
    case 'replay_judged':
      return replayProblem(s, (e as LedgerEntry<'replay_judged'>).data);
    case 'owner_banned': {
      const d = (e as LedgerEntry<'owner_banned'>).data;
      const policy = s.trust.policy;
      const faults = s.trust.owners.get(lower(d.login))?.faults ?? 0;
      if (policy && faults < policy.ban_after_faults) return `owner_banned of ${d.login} after ${faults} fault(s), but the policy bans at ${policy.ban_after_faults}`;
      return null;
    }
    case 'verification': {
      const d = (e as LedgerEntry<'verification'>).data;
      if (!s.results.has(d.job_id)) return `verification of job ${d.job_id}, but no earlier result_recorded entry has that job_id`;
      return s.trust.policy && d.agreed ? (agreementProblem(s, d) ?? ctx.tolerances.problem(s, `verification of job ${d.job_id}`, d.tolerance, [d.job_id, d.verify_job_id])) : null;
    }
    default:
      return null;
  }
}

/**
 * An agreeing verification confirms its claim (it earns, counts toward trust and a merge's quorum):
 * it must rest on what the App judged, a validated run of another owner recorded before it whose
 * score agrees with the claim's within a tolerance no tighter than the policy's, not on its own say.
 */
function agreementProblem(s: LedgerState, d: EntryDataOf<'verification'>): string | null {
  const claim = s.results.get(d.job_id)!.data;
  const v = s.results.get(d.verify_job_id)?.data;
  if (!v || !v.validated || !v.result) return `verification of job ${d.job_id} cites verify run ${d.verify_job_id}, which has no validated result before it`;
  if (!v.runner_owner || (claim.runner_owner && lower(v.runner_owner) === lower(claim.runner_owner))) {
    return `verification of job ${d.job_id} cites verify run ${d.verify_job_id} of ${v.runner_owner ?? 'no runner owner'}, the claim's own runner owner or none: only another owner's run confirms a result`;
  }
  const floor = s.trust.policy!.tolerance;
  if (d.tolerance < floor) return `verification of job ${d.job_id} judged with tolerance ${d.tolerance}, below the policy's ${floor}`;
  const score = (r: EntryDataOf<'result_recorded'>) => (r.result?.status === 'ok' ? (r.result.val_bpb ?? null) : null);
  const [a, b] = [score(claim), score(v)];
  if (!runsAgree(a, b, d.tolerance)) return `verification of job ${d.job_id} says the runs agree, but their recorded scores ${a ?? 'failed'} and ${b ?? 'failed'} differ by more than its tolerance ${d.tolerance}`;
  return null;
}

/**
 * The agreement tolerance the App judges runs of `cls` with on the ledger so far, recomputed from
 * it: max(the policy's tolerance, widen(agree_sigmas, df) x sqrt(2) x sigma), sigma pooled over the
 * class's latest baseline of each commit, each counting only its runs not outvoted or of a banned
 * owner since (app/policy/outcome.ts agreeTolerance over app/baselines.ts classSigmaOf); with no
 * baseline of two counted runs, a baseline's own recorded sigma (app/handlers/judge.ts), the
 * largest. Null when the ledger's trust_policy does not record agree_sigmas (older entries).
 */
export function appTolerance(s: LedgerState, cls: string): number | null {
  const policy = s.trust.policy;
  if (!policy || policy.agree_sigmas === undefined) return null;
  const k = policy.agree_sigmas;
  const latest = new Map<string, EntryDataOf<'baseline_recorded'>>();
  for (const b of s.baselines.get(cls) ?? []) latest.set(b.data.sha, b.data);
  const counts = (j: string) => {
    const owner = s.results.get(j)?.data.runner_owner;
    return !s.trust.faulted.has(j) && !(owner && s.trust.banned(owner));
  };
  let ss = 0;
  let df = 0;
  let own = 0;
  for (const b of latest.values()) {
    own = Math.max(own, widen(k, b.n - 1) * Math.SQRT2 * b.sigma);
    if (b.job_ids.every(counts)) {
      if (b.n >= 2 && Number.isFinite(b.sigma)) {
        ss += (b.n - 1) * b.sigma * b.sigma;
        df += b.n - 1;
      }
      continue;
    }
    const values = b.job_ids
      .filter(counts)
      .map((j) => s.results.get(j)?.data.result?.val_bpb)
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (values.length < 2) continue;
    const m = values.reduce((a, x) => a + x, 0) / values.length;
    ss += values.reduce((a, x) => a + (x - m) ** 2, 0);
    df += values.length - 1;
  }
  return Math.max(policy.tolerance, df > 0 ? widen(k, df) * Math.SQRT2 * Math.sqrt(ss / df) : own);
}

/**
 * The upper bound of a recorded agreement tolerance (verification, owner_faulted): the App's rule
 * (appTolerance) at its largest since the last of the runs the entry judges was dispatched. The App
 * judged on a view between that dispatch and the entry (the view knows the job it judges), and its
 * entries may land on a chain that grew meanwhile (app/record.ts): a baseline or fault recorded in
 * between moves the class's sigma. Before, the audit bounded the tolerance only from below (the
 * policy's floor): a forged verification "agreeing" within 1 bpb confirmed a claim 0.9 bpb off and
 * minted its credit, and a fault within 0.5 grouped runs that agree with nothing.
 */
class AppTolerance {
  /** by class: the App's tolerance from `seq` on (null: the policy records no agree_sigmas), a step each time it changed */
  private steps = new Map<string, { seq: number; t: number | null }[]>();
  private policySeq = -1;
  /** by job id: the seq of its job_dispatched */
  private dispatchedAt = new Map<string, number>();

  /** after `e` is applied to `s`: entries that move a class's sigma or the policy restate each class's tolerance */
  applied(s: LedgerState, e: LedgerEntry): void {
    if (e.type === 'trust_policy') this.policySeq = e.seq;
    if (e.type === 'job_dispatched') this.dispatchedAt.set((e as LedgerEntry<'job_dispatched'>).data.job_id, e.seq);
    if (e.type !== 'baseline_recorded' && e.type !== 'owner_faulted' && e.type !== 'owner_banned' && e.type !== 'trust_policy' && e.type !== 'replay_judged') return;
    for (const cls of s.baselines.keys()) {
      const t = appTolerance(s, cls);
      const h = this.steps.get(cls) ?? [];
      if (!h.length || h[h.length - 1].t !== t) h.push({ seq: e.seq, t });
      this.steps.set(cls, h);
    }
  }

  /** The App's tolerance for `cls` at its largest from `from` on; null when unknown at some point (no agree_sigmas recorded). */
  private bound(s: LedgerState, cls: string, from: number): number | null {
    const h = this.steps.get(cls);
    // no baseline of the class yet: the floor, under a policy recorded before the run
    if (!h?.length) return this.policySeq <= from ? appTolerance(s, cls) : null;
    // the step in force when the run was recorded (before the class's first baseline: none, the floor, below every step)
    let i = h.length - 1;
    while (i > 0 && h[i].seq > from) i--;
    let max = -Infinity;
    for (; i < h.length; i++) {
      const t = h[i].t;
      if (t === null) return null;
      max = Math.max(max, t);
    }
    return max;
  }

  /** Why `tolerance`, recorded by `what` judging the runs `jobIds`, is wider than the App's rule gives, or null. */
  problem(s: LedgerState, what: string, tolerance: number, jobIds: string[]): string | null {
    const runs = jobIds.map((j) => s.results.get(j)).filter((r) => !!r?.data.result);
    if (!runs.length) return null;
    // the last dispatch of the runs judged (a run with no job_dispatched: its result, the latest it can be known)
    const from = Math.max(...runs.map((r) => Math.min(this.dispatchedAt.get(r!.data.job_id) ?? r!.seq, r!.seq)));
    let bound = -Infinity;
    for (const cls of new Set(runs.map((r) => r!.data.result!.hardware_class))) {
      const b = this.bound(s, cls, from);
      if (b === null) return null;
      bound = Math.max(bound, b);
    }
    if (tolerance <= bound + 1e-9 * Math.max(1, bound)) return null;
    return `${what} judged with tolerance ${tolerance}, above the ${+bound.toFixed(6)} the App's rule gives (max(the policy's ${s.trust.policy!.tolerance}, agree_sigmas ${s.trust.policy!.agree_sigmas} x sqrt(2) x the class's sigma pooled over its baselines))`;
  }
}

function reversalProblem(s: LedgerState, d: EntryDataOf<'credit_reversed'>): string | null {
  if (s.reversals.has(d.job_id)) return `job ${d.job_id} was already reversed at seq ${s.reversals.get(d.job_id)!.seq}`;
  const g = s.grants.get(d.job_id);
  if (g) {
    if (g.data.login !== d.login) return `credit_reversed from ${d.login} but job ${d.job_id}'s credit went to ${g.data.login}`;
    if (Math.abs(g.data.amount - d.amount) > EPS) return `credit_reversed of ${d.amount} but job ${d.job_id} was granted ${g.data.amount} (seq ${g.seq})`;
    return null;
  }
  // A zero reversal closes a result that was never granted, so it never will be.
  const r = s.results.get(d.job_id);
  if (!r) return `credit_reversed for job ${d.job_id}, but it has neither a grant nor a recorded result`;
  if (r.data.runner_owner !== d.login) return `credit_reversed from ${d.login} but job ${d.job_id} ran on a runner of ${r.data.runner_owner}`;
  if (d.amount !== 0) return `credit_reversed of ${d.amount} for job ${d.job_id}, which was never granted (only 0 is allowed)`;
  return null;
}

const lower = (x: string) => x.toLowerCase();

/** A merge must rest on `quorum + 1` distinct agreeing owners other than the PR's author, none banned; an account is one owner under any of its logins (TrustBook.ownerKey). */
function mergeProblem(s: LedgerState, d: EntryDataOf<'experiment_merged'>): string | null {
  const policy = s.trust.policy!;
  const owners = new Set<string>();
  for (const j of d.job_ids) {
    const r = s.results.get(j)?.data;
    if (!r || !r.validated || !r.result) return `experiment_merged of PR #${d.pr} cites job ${j}, which has no validated result before it`;
    if (r.pr !== d.pr || r.sha !== d.sha) return `experiment_merged of PR #${d.pr} at ${d.sha} cites job ${j}, a run of PR #${r.pr} at ${r.sha}`;
    if (!r.runner_owner) return `experiment_merged of PR #${d.pr} cites job ${j}, whose runner has no owner`;
    if (s.trust.banned(r.runner_owner)) return `experiment_merged of PR #${d.pr} counts job ${j} of ${r.runner_owner}, who is banned`;
    if (s.trust.faulted.has(j)) return `experiment_merged of PR #${d.pr} counts job ${j}, which other owners outvoted`;
    if (policy.quorum > 0 && !s.trust.checked.has(j)) return `experiment_merged of PR #${d.pr} counts job ${j}, which no other owner's run agreed with`;
    if (r.result.hardware_class !== d.hardware_class) return `experiment_merged of PR #${d.pr} on ${d.hardware_class} counts job ${j}, a run on ${r.result.hardware_class}`;
    const author = s.dispatched.get(j)?.pr_author ?? r.author;
    if (author && s.trust.ownerKey(author) === s.trust.ownerKey(r.runner_owner)) continue; // the author's own runner never counts
    owners.add(s.trust.ownerKey(r.runner_owner));
  }
  if (owners.size < policy.quorum + 1) {
    return `experiment_merged of PR #${d.pr} rests on ${owners.size} independent owner(s) (${[...owners].join(', ') || 'none'}), but the policy needs ${policy.quorum + 1} agreeing owners other than the PR's author`;
  }
  return mergeScoreProblem(s, d);
}

/**
 * A merge's val_bpb is what the runs it rests on measured: their mean, or the claim's score where
 * the claim (the candidate run) is one of them. The App wrote the claim's score before (app/merge.ts
 * restingBpb), also when the claim was outvoted and the merge rested on other owners' runs: such an
 * entry recorded a figure no run it rests on measured (a forged 0.50 the agreeing runs measured as
 * ~2.00) and is flagged; every other merge the App wrote before verifies as it did, so no marker.
 */
function mergeScoreProblem(s: LedgerState, d: EntryDataOf<'experiment_merged'>): string | null {
  const runs = d.job_ids.map((j) => s.results.get(j)!.data);
  const scores = runs.map((r) => (r.result?.status === 'ok' ? (r.result.val_bpb ?? null) : null)).filter((v): v is number => v !== null);
  const mean = scores.length === d.job_ids.length ? scores.reduce((a, v) => a + v, 0) / scores.length : null;
  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  if (mean !== null && near(d.val_bpb, mean)) return null;
  const claim = runs.find((r) => r.role === 'candidate');
  const claimBpb = claim?.result?.status === 'ok' ? (claim.result.val_bpb ?? null) : null;
  if (claimBpb !== null && near(d.val_bpb, claimBpb)) return null;
  return `experiment_merged of PR #${d.pr} records val_bpb ${d.val_bpb}, but the runs it rests on (${d.job_ids.join(', ')}) measured ${mean === null ? 'no score for each run' : `${+mean.toPrecision(12)} on average`}${claimBpb === null ? '' : ` and its claim ${claimBpb}`}: a merge records what its own runs measured`;
}

/** The runs a merge names as samples of its commit's baseline may be (ledger/baseline-reuse.ts). */
function reusedSamplesProblem(s: LedgerState, d: EntryDataOf<'experiment_merged'>): string | null {
  const ids = d.baseline_job_ids ?? [];
  for (const j of ids) {
    const why = reuseProblem(s, d, j);
    if (why) return `experiment_merged of PR #${d.pr} names job ${j} as a sample of ${d.merge_sha}'s baseline, but ${why}`;
  }
  const why = sampleSetProblem(s, ids);
  return why ? `experiment_merged of PR #${d.pr} names runs that cannot be samples of one baseline: ${why}` : null;
}

/** A run of the baseline's commit on its class, as dispatched for the baseline. */
function isBaselineRun(r: EntryDataOf<'result_recorded'>, d: EntryDataOf<'baseline_recorded'>): boolean {
  return r.role === 'baseline' && r.sha === d.sha && r.result?.hardware_class === d.hardware_class;
}

/**
 * A baseline may count runs that are not its own baseline runs only as the merge that made its
 * commit names them (experiment_merged `baseline_job_ids` of its class), still eligible now, and
 * beside at least one baseline run of the commit that ran the same train.ts under the same harness
 * and budget (so the ledger itself shows they are runs of the new default branch).
 */
function reusedCitationsProblem(s: LedgerState, d: EntryDataOf<'baseline_recorded'>): string | null {
  let reused = 0;
  let own = 0;
  for (const j of d.job_ids) {
    const r = s.results.get(j)?.data;
    if (!r) continue; // (baselineProblem names it under a policy; ledgers from before one cite ids with no result)
    if (isBaselineRun(r, d)) {
      if (r.validated && r.result?.status === 'ok') own++;
      continue;
    }
    const m = s.merges.get(d.sha);
    if (!m || m.hardware_class !== d.hardware_class || !(m.baseline_job_ids ?? []).includes(j)) {
      if (!s.trust.policy && r.role === 'baseline') continue; // (as before the policy)
      return `baseline_recorded of ${d.hardware_class} at ${d.sha} cites job ${j}, a ${r.role} run of ${r.pr === null ? 'the default branch' : `PR #${r.pr}`} at ${r.sha} on ${r.result?.hardware_class ?? 'no class'}, which no merge that made ${d.sha} names as a sample of its baseline on ${d.hardware_class}`;
    }
    const why = reuseProblem(s, m, j);
    if (why) return `baseline_recorded of ${d.hardware_class} at ${d.sha} counts job ${j} of the merged PR #${m.pr}, but ${why}`;
    reused++;
  }
  if (!reused) return null;
  if (!own) return `baseline_recorded of ${d.hardware_class} at ${d.sha} rests only on runs of the merged PR; it needs at least one baseline run of ${d.sha} to show they ran its train.ts and harness`;
  const why = sampleSetProblem(s, d.job_ids);
  return why ? `baseline_recorded of ${d.hardware_class} at ${d.sha} mixes runs that are not samples of one baseline: ${why}` : null;
}

/** A baseline must rest on validated baseline runs of its class and commit (or its merge's named runs) by `baseline_owners` distinct owners. */
function baselineProblem(s: LedgerState, d: EntryDataOf<'baseline_recorded'>): string | null {
  const policy = s.trust.policy!;
  const owners = new Set<string>();
  const scores: number[] = [];
  const reused = new Set(s.merges.get(d.sha)?.hardware_class === d.hardware_class ? (s.merges.get(d.sha)!.baseline_job_ids ?? []) : []);
  for (const j of d.job_ids) {
    const r = s.results.get(j)?.data;
    if (!r || !r.validated || !r.result || r.result.val_bpb == null) return `baseline_recorded of ${d.hardware_class} cites job ${j}, which has no validated, scored result before it`;
    if (!reused.has(j) && !isBaselineRun(r, d)) return `baseline_recorded of ${d.hardware_class} at ${d.sha} cites job ${j}, a ${r.role} run at ${r.sha} on ${r.result.hardware_class}`;
    if (r.runner_owner && s.trust.banned(r.runner_owner)) return `baseline_recorded of ${d.hardware_class} counts job ${j} of ${r.runner_owner}, who is banned`;
    if (s.trust.faulted.has(j)) return `baseline_recorded of ${d.hardware_class} counts job ${j}, which other owners outvoted`;
    if (s.trust.awaitsReplay(j)) return `baseline_recorded of ${d.hardware_class} counts job ${j}, which no other owner's replay has reproduced (a baseline run of an owner on probation, or drawn by the spot check, counts only once replayed)`;
    if (r.runner_owner) owners.add(lower(r.runner_owner));
    scores.push(r.result.val_bpb);
  }
  if (owners.size < policy.baseline_owners) return `baseline_recorded of ${d.hardware_class} rests on ${owners.size} owner(s), but the policy needs ${policy.baseline_owners} who agree`;
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  if (Math.abs(mean - d.mean) > 1e-9 * Math.max(1, Math.abs(mean))) return `baseline_recorded of ${d.hardware_class} says mean ${d.mean} but its runs average ${mean}`;
  return null;
}

/**
 * A replay verdict must be what its revealed digests and the runs' recorded scores make of it
 * (ledger/replays.ts), each replay a run of another owner dispatched to repeat the original's
 * seeds and schedule, and each revealed digest the one committed to when its result was recorded.
 */
function replayProblem(s: LedgerState, d: EntryDataOf<'replay_judged'>): string | null {
  const orig = s.results.get(d.job_id)?.data;
  if (!orig?.validated || !orig.result || !orig.runner_owner) return `replay_judged of job ${d.job_id}, which has no validated result of an owner before it`;
  if (d.digests.length !== d.replay_job_ids.length + 1) return `replay_judged of job ${d.job_id} reveals ${d.digests.length} digests for ${d.replay_job_ids.length + 1} runs`;
  const by = replayBy(orig.result.backend, s.trust.policy?.deterministic_backends);
  if (d.by !== by) return `replay_judged of job ${d.job_id} compares by ${d.by}, but a run on ${orig.result.backend} is compared by ${by}`;
  const tol = s.trust.policy?.replay_tolerance;
  if (d.by === 'val_bpb' && tol !== undefined && Math.abs(d.tolerance - tol) > 1e-12) return `replay_judged of job ${d.job_id} uses tolerance ${d.tolerance}, but the policy's replay_tolerance is ${tol}`;
  const owners = new Set([lower(orig.runner_owner)]);
  for (const j of d.replay_job_ids) {
    const job = s.dispatched.get(j);
    const r = s.results.get(j)?.data;
    if (!job || job.verifies !== d.job_id || job.replay !== orig.result.replay?.schedule || job.seed !== orig.result.seed || job.eval_seed !== orig.result.eval_seed) {
      return `replay_judged of job ${d.job_id} cites job ${j}, which was not dispatched as its replay (the same seeds and schedule)`;
    }
    if (!r?.validated || !r.runner_owner) return `replay_judged of job ${d.job_id} cites job ${j}, which has no validated result of an owner before it`;
    if (owners.has(lower(r.runner_owner))) return `replay_judged of job ${d.job_id} cites job ${j} of ${r.runner_owner}, who already ran it`;
    owners.add(lower(r.runner_owner));
  }
  const ids = [d.job_id, ...d.replay_job_ids];
  for (let i = 0; i < ids.length; i++) {
    const c = s.results.get(ids[i])!.data.digest_commitment;
    const digest = d.digests[i];
    if (c && (!digest || digestCommitment(digest, ids[i]) !== c)) return `replay_judged of job ${d.job_id} reveals for job ${ids[i]} a digest that is not the one its result committed to`;
  }
  const v = replayVerdict(replayRuns(d, (j) => s.results.get(j)), d.by, d.tolerance, s.trust.policy?.outvote_quorum);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
  if (v.verdict === 'pending') return `replay_judged of job ${d.job_id} says ${d.verdict}, but its revealed digests leave it undecided (a disagreement no ${s.trust.policy?.outvote_quorum ?? 2} agreeing owners settle yet)`;
  if (v.verdict !== d.verdict || !same(v.outvoted, d.outvoted)) {
    return `replay_judged of job ${d.job_id} says ${d.verdict}${d.outvoted.length ? ` (outvoted ${d.outvoted.join(', ')})` : ''}, but its revealed digests say ${v.verdict}${v.outvoted.length ? ` (outvoted ${v.outvoted.join(', ')})` : ''}`;
  }
  return null;
}

/** A fault needs two other owners' runs of the same job that agree (as the App groups them) and that the faulted one agrees with none of. */
function faultProblem(s: LedgerState, d: EntryDataOf<'owner_faulted'>): string | null {
  if (d.shading) return shadingFaultProblem(s, d);
  if (d.flat) return flatFaultProblem(s, d);
  // a fault on a replayed run rests on the replay verdict recomputed from the revealed digests
  const replay = s.trust.replays.get(d.claim_job_id);
  if (replay) {
    if (replay.verdict === 'pending' || replay.verdict === 'not_replayable' || !replay.outvoted.includes(d.job_id)) {
      return `owner_faulted of ${d.login} for job ${d.job_id} contradicts the revealed digests of the replays of job ${d.claim_job_id} (${replay.verdict}${replay.verdict === 'agreed' || replay.verdict === 'outvoted' ? `, outvoted: ${replay.outvoted.join(', ') || 'none'}` : ''})`;
    }
    const wrong = s.results.get(d.job_id)?.data;
    if (!wrong?.runner_owner || lower(wrong.runner_owner) !== lower(d.login)) return `owner_faulted of ${d.login} cites job ${d.job_id}, which is no result of theirs`;
    if (d.agreed_job_ids.length !== replay.group.length || !d.agreed_job_ids.every((j) => replay.group.includes(j))) return `owner_faulted of ${d.login} cites ${d.agreed_job_ids.join(', ')}, not the agreeing runs ${replay.group.join(', ')} of the replays of job ${d.claim_job_id}`;
    return null;
  }
  // the App scales the tolerance with the class's sigma (never below the policy's floor) and records it with the fault
  const floor = s.trust.policy?.tolerance ?? 0;
  if (d.tolerance !== undefined && d.tolerance < floor) return `owner_faulted of ${d.login} judged with tolerance ${d.tolerance}, below the policy's ${floor}`;
  const tol = d.tolerance ?? floor;
  const wrong = s.results.get(d.job_id)?.data;
  if (!wrong || !wrong.runner_owner || lower(wrong.runner_owner) !== lower(d.login)) return `owner_faulted of ${d.login} cites job ${d.job_id}, which is no result of theirs`;
  const score = (r: EntryDataOf<'result_recorded'>) => (r.result?.status === 'ok' ? (r.result.val_bpb ?? null) : null);
  const agreed = d.agreed_job_ids.map((j) => s.results.get(j)?.data);
  const owners = new Set(agreed.map((r) => (r?.runner_owner ? lower(r.runner_owner) : '')));
  const needed = s.trust.policy?.outvote_quorum ?? 2;
  if (agreed.some((r) => !r?.validated || !r.runner_owner) || owners.has(lower(d.login)) || owners.size < needed) {
    return `owner_faulted of ${d.login} must cite validated runs of at least ${needed} other owners (the policy's outvote_quorum)`;
  }
  // the group the App formed (largestAgreeingGroup): every cited run agrees with one of them, and the faulted run with none
  const scores = agreed.map((r) => score(r!));
  if (!isAgreeingGroup(scores, tol)) return `owner_faulted of ${d.login}: the cited runs do not agree with each other (no cited run agrees with all the others within ${tol})`;
  const i = agreesWithMember(score(wrong), scores, tol);
  if (i >= 0) return `owner_faulted of ${d.login}: job ${d.job_id} agrees with the cited job ${d.agreed_job_ids[i]}`;
  return null;
}

/** A shading fault rests on the owner's samples the trust fold holds (ledger/shading.ts), recomputed: the test crossed, on the runs cited, as recorded. */
function shadingFaultProblem(s: LedgerState, d: EntryDataOf<'owner_faulted'>): string | null {
  const t = s.trust.shadingOf(d.login);
  if (!t || !shadingCrossed(t)) return `owner_faulted of ${d.login} for shading, but its replayed scores do not cross the shading test (${t ? `z ${t.z.toFixed(2)} over ${t.n}` : 'no samples'}; a fault needs ${SHADING_Z} over ${SHADING_MIN_PAIRS} or more)`;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  const r = d.shading!;
  if (r.n !== t.n || !same(r.z, t.z) || !same(r.mean, t.mean) || !same(r.sigma, t.sigma) || t.job_ids.join() !== d.agreed_job_ids.join() || !t.job_ids.includes(d.job_id)) {
    return `owner_faulted of ${d.login} for shading records z ${r.z} over ${r.n} on ${d.agreed_job_ids.join(', ')}, but its samples give z ${t.z} over ${t.n} on ${t.job_ids.join(', ')}`;
  }
  return null;
}
