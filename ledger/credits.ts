// Compute credits, recomputed from the ledger alone. One credit = one second of training on the
// reference hardware class. A validated job earns train_seconds x class weight, where the weight is
// the class's baseline tokens/s over the reference class's, both taken from baseline_recorded
// entries and cited in the grant's weight_basis so anyone can redo the arithmetic.
import type { EntryDataOf, LedgerEntry, NewEntry } from './entries.js';
import { longRunIssue } from './long-run.js';
import { TrustBook } from './trust.js';

/** reason of a credit_spent entry that used the free tier (amount 0) instead of the balance */
export const FREE_TIER_REASON = 'free_tier';

type Baseline = { seq: number; data: EntryDataOf<'baseline_recorded'> };
type Result = { seq: number; time: string; data: EntryDataOf<'result_recorded'> };

export interface ClassWeight {
  weight: number;
  hardware_class: string;
  reference_class: string;
  /** the numbers the weight came from, in the form the ledger's verifier reads back */
  basis: string;
}

export interface Balance {
  login: string;
  /** credits granted for validated work on this login's runners */
  earned: number;
  /** estimated credits of validated results not granted yet (e.g. improvement claims awaiting verification) */
  pending: number;
  spent: number;
  reversed: number;
  /** earned - spent - reversed */
  balance: number;
  /** the entries that moved or will move this balance, oldest first */
  history: LedgerEntry[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

const BASIS = /^tokens\/s (\S+) on (\S+) \(baseline seq (\d+)\) \/ (\S+) on reference (\S+) \(baseline seq (\d+)\)$/;

/**
 * What the ledger says so far, built one entry at a time (so checks over 100,000 entries stay
 * linear). Read its maps, never change them: apply() does, and after clone() it replaces a map
 * shared with the original by a copy before its first change (so the fields are not readonly).
 */
export class LedgerState {
  baselines = new Map<string, Baseline[]>();
  baselineBySeq = new Map<number, Baseline>();
  /** latest baseline of each class at each commit, by `${class}@${sha}` */
  private baselineAt = new Map<string, Baseline>();
  firstBaselineClass: string | null = null;
  dispatched = new Map<string, EntryDataOf<'job_dispatched'>>();
  results = new Map<string, Result>();
  grants = new Map<string, { seq: number; data: EntryDataOf<'credit_granted'> }>();
  reversals = new Map<string, { seq: number; data: EntryDataOf<'credit_reversed'> }>();
  /** latest verification of each claim, by the claim's job_id */
  verifications = new Map<string, { seq: number; data: EntryDataOf<'verification'> }>();
  /** experiment_merged entries by the commit the merge made (`merge_sha`): a baseline of that commit may count their runs (ledger/baseline-reuse.ts) */
  merges = new Map<string, EntryDataOf<'experiment_merged'>>();
  accounts = new Map<string, Balance>();
  /** owners' trust under the replication policy the ledger records (ledger/trust.ts) */
  trust = new TrustBook();
  /** job ids of long runs (paid through a long-run issue): they claim nothing and are not replicated */
  longRuns = new Set<string>();
  /** free-tier runs used, by freeRunKey(login, UTC day) */
  private freeRunsUsed = new Map<string, number>();
  /** free-tier runs used, by freeRunKey(`id:<GitHub account id>`, UTC day) (app/handlers/pull-request.ts records authors' ids) */
  private freeRunsByAccount = new Map<string, number>();
  /** the GitHub account id each author login was last recorded with (job_dispatched, experiment_queued author_id) */
  private loginAccounts = new Map<string, number>();
  /** after clone(), on both sides: what is still shared with the other state (copied before its first change here) */
  private cow: { shared: WeakSet<object>; trust: boolean } | null = null;
  /** pendingCredit's answer, until apply() or account() changes the state */
  private pendingMemo: { referenceClass: string | undefined; pending: Map<string, number> } | null = null;

  static of(entries: LedgerEntry[]): LedgerState {
    const s = new LedgerState();
    for (const e of entries) s.apply(e);
    return s;
  }

  /**
   * An independent copy: applying entries to either never changes the other. It starts by sharing
   * everything (entries are never modified); what apply() would change in place (a map or set, a
   * baseline list, an account and its history, the trust book) is copied before its first change,
   * so extending a copy by a few entries costs what they touch, not the size of the ledger. A field
   * added to this class must be shared and copied the same way (test/app/ledger-view.test.ts
   * compares every field of copies extended side by side with whole-chain folds).
   */
  clone(): LedgerState {
    const c = new LedgerState();
    c.baselines = this.baselines;
    c.baselineBySeq = this.baselineBySeq;
    c.baselineAt = this.baselineAt;
    c.firstBaselineClass = this.firstBaselineClass;
    c.dispatched = this.dispatched;
    c.results = this.results;
    c.grants = this.grants;
    c.reversals = this.reversals;
    c.verifications = this.verifications;
    c.merges = this.merges;
    c.accounts = this.accounts;
    c.trust = this.trust;
    c.longRuns = this.longRuns;
    c.freeRunsUsed = this.freeRunsUsed;
    c.freeRunsByAccount = this.freeRunsByAccount;
    c.loginAccounts = this.loginAccounts;
    const shared = new WeakSet<object>([this.baselines, this.baselineBySeq, this.baselineAt, this.dispatched, this.results, this.grants, this.reversals, this.verifications, this.merges, this.accounts, this.longRuns, this.freeRunsUsed, this.freeRunsByAccount, this.loginAccounts]);
    for (const list of this.baselines.values()) shared.add(list);
    for (const a of this.accounts.values()) shared.add(a);
    // both sides copy a shared structure before changing it: this state may go on applying too
    c.cow = { shared, trust: true };
    this.cow = { shared, trust: true };
    return c;
  }

  /** `x`, or a copy of it the first time this clone changes it. */
  private mine<T extends object>(x: T, copy: (x: T) => T): T {
    return this.cow?.shared.has(x) ? copy(x) : x;
  }

  /**
   * Job ids of the credits granted to `login` that no reversal took back and no bit-exact replay
   * proved (TrustBook.proven): what a ban forfeits under the policy's `ban_forfeits`.
   */
  forfeitable(login: string): string[] {
    const out: string[] = [];
    for (const [jobId, g] of this.grants) {
      if (g.data.login.toLowerCase() === login.toLowerCase() && !this.reversals.has(jobId) && !this.trust.proven.has(jobId)) out.push(jobId);
    }
    return out;
  }

  /**
   * Free-tier runs `login` has left on the UTC day of `now` (what freeRunsLeft counts over the
   * entries; see freeRunDays), and no more than its GitHub account has left under all its logins
   * (`accountId`, else the id `login` was last recorded with). Before, runs were counted by login
   * only: an account that renamed itself had the day's free runs again under each new login.
   */
  freeRunsLeft(login: string, perDay: number, now: Date = new Date(Date.now()), accountId?: number): number {
    const id = accountId ?? this.loginAccounts.get(login);
    const used = freeRunDays(now).map((day) => Math.max(this.freeRunsUsed.get(`${login} ${day}`) ?? 0, id === undefined ? 0 : (this.freeRunsByAccount.get(`id:${id} ${day}`) ?? 0)));
    return Math.max(0, perDay - Math.max(...used));
  }

  /** Records the GitHub account id an author login was seen with. */
  private seenAccount(login: string | null, id: number | undefined): void {
    if (login === null || id === undefined || this.loginAccounts.get(login) === id) return;
    (this.loginAccounts = this.mine(this.loginAccounts, (m) => new Map(m))).set(login, id);
  }

  /** The account of `login` (created when new), to be changed. */
  account(login: string): Balance {
    this.pendingMemo = null;
    this.accounts = this.mine(this.accounts, (m) => new Map(m));
    let a = this.accounts.get(login);
    if (!a || this.cow?.shared.has(a)) {
      a = a ? { ...a, history: [...a.history] } : { login, earned: 0, pending: 0, spent: 0, reversed: 0, balance: 0, history: [] };
      this.accounts.set(login, a);
    }
    return a;
  }

  apply(e: LedgerEntry): void {
    this.pendingMemo = null;
    switch (e.type) {
      case 'baseline_recorded': {
        const d = (e as LedgerEntry<'baseline_recorded'>).data;
        const b = { seq: e.seq, data: d };
        this.baselines = this.mine(this.baselines, (m) => new Map(m));
        const list = this.mine(this.baselines.get(d.hardware_class) ?? [], (l) => [...l]);
        list.push(b);
        this.baselines.set(d.hardware_class, list);
        (this.baselineBySeq = this.mine(this.baselineBySeq, (m) => new Map(m))).set(e.seq, b);
        (this.baselineAt = this.mine(this.baselineAt, (m) => new Map(m))).set(`${d.hardware_class}@${d.sha}`, b);
        this.firstBaselineClass ??= d.hardware_class;
        break;
      }
      case 'job_dispatched': {
        const d = (e as LedgerEntry<'job_dispatched'>).data;
        (this.dispatched = this.mine(this.dispatched, (m) => new Map(m))).set(d.job_id, d);
        this.seenAccount(d.author, d.author_id);
        break;
      }
      case 'experiment_queued': {
        const d = (e as LedgerEntry<'experiment_queued'>).data;
        this.seenAccount(d.author, d.author_id);
        break;
      }
      case 'result_recorded': {
        const d = (e as LedgerEntry<'result_recorded'>).data;
        (this.results = this.mine(this.results, (m) => new Map(m))).set(d.job_id, { seq: e.seq, time: e.time, data: d });
        if (d.validated && d.runner_owner) this.account(d.runner_owner).history.push(e);
        break;
      }
      case 'verification': {
        const d = (e as LedgerEntry<'verification'>).data;
        (this.verifications = this.mine(this.verifications, (m) => new Map(m))).set(d.job_id, { seq: e.seq, data: d });
        break;
      }
      case 'experiment_merged': {
        const d = (e as LedgerEntry<'experiment_merged'>).data;
        (this.merges = this.mine(this.merges, (m) => new Map(m))).set(d.merge_sha, d);
        break;
      }
      case 'credit_granted': {
        const d = (e as LedgerEntry<'credit_granted'>).data;
        (this.grants = this.mine(this.grants, (m) => new Map(m))).set(d.job_id, { seq: e.seq, data: d });
        const a = this.account(d.login);
        a.earned += d.amount;
        a.history.push(e);
        break;
      }
      case 'credit_spent': {
        const d = (e as LedgerEntry<'credit_spent'>).data;
        if (longRunIssue(d.reason) !== null) (this.longRuns = this.mine(this.longRuns, (x) => new Set(x))).add(d.job_id);
        if (d.reason === FREE_TIER_REASON) {
          const k = freeRunKey(d.login, e.time);
          (this.freeRunsUsed = this.mine(this.freeRunsUsed, (m) => new Map(m))).set(k, (this.freeRunsUsed.get(k) ?? 0) + 1);
          const id = this.dispatched.get(d.job_id)?.author_id ?? this.loginAccounts.get(d.login);
          if (id !== undefined) {
            const ka = freeRunKey(`id:${id}`, e.time);
            (this.freeRunsByAccount = this.mine(this.freeRunsByAccount, (m) => new Map(m))).set(ka, (this.freeRunsByAccount.get(ka) ?? 0) + 1);
          }
        }
        const a = this.account(d.login);
        a.spent += d.amount;
        a.history.push(e);
        break;
      }
      case 'credit_reversed': {
        const d = (e as LedgerEntry<'credit_reversed'>).data;
        (this.reversals = this.mine(this.reversals, (m) => new Map(m))).set(d.job_id, { seq: e.seq, data: d });
        const a = this.account(d.login);
        a.reversed += d.amount;
        a.history.push(e);
        break;
      }
      default:
        break;
    }
    if (this.cow?.trust) {
      const t = new TrustBook();
      t.copyFrom(this.trust);
      this.trust = t;
      this.cow.trust = false;
    }
    this.trust.apply(e, (jobId) => this.results.get(jobId), (jobId) => this.longRuns.has(jobId));
  }

  referenceClass(configured?: string): string | null {
    return configured ?? this.firstBaselineClass;
  }

  /**
   * The weight of a class against the reference class (default: the first class that got a
   * baseline). Uses the class's latest baseline and, when there is one, the reference's baseline
   * of the same commit (so a faster train.ts does not skew the ratio). Null until both classes
   * have a baseline.
   */
  weight(hardwareClass: string, referenceClass?: string): ClassWeight | null {
    const ref = this.referenceClass(referenceClass);
    const own = this.baselines.get(hardwareClass);
    const refs = ref ? this.baselines.get(ref) : undefined;
    if (!ref || !own?.length || !refs?.length) return null;
    const b = own[own.length - 1];
    const rb = this.baselineAt.get(`${ref}@${b.data.sha}`) ?? refs[refs.length - 1];
    return {
      weight: this.capped(b.data.tokens_per_second / rb.data.tokens_per_second),
      hardware_class: hardwareClass,
      reference_class: ref,
      basis: `tokens/s ${b.data.tokens_per_second} on ${hardwareClass} (baseline seq ${b.seq}) / ${rb.data.tokens_per_second} on reference ${ref} (baseline seq ${rb.seq})`,
    };
  }

  /** A class weight within the trust policy's `max_class_weight` (no cap on a ledger without one). */
  capped(weight: number): number {
    const cap = this.trust.policy?.max_class_weight;
    return cap === undefined ? weight : Math.min(weight, cap);
  }

  /**
   * Why a result cannot (or can no longer) earn credit, or null when it can. `awaiting`: count a
   * result still waiting for another owner's confirmation as able to earn (pending credit).
   */
  ungrantable(jobId: string, awaiting = false): string | null {
    const r = this.results.get(jobId);
    if (!r) return `no result_recorded entry for job ${jobId}`;
    if (!r.data.validated) return `the result of job ${jobId} was rejected (${r.data.reason ?? 'no reason given'})`;
    if (!r.data.result) return `the result of job ${jobId} has no result file`;
    if (!r.data.runner_owner) return `the result of job ${jobId} names no runner owner to credit`;
    if (this.grants.has(jobId)) return `job ${jobId} was already granted credit at seq ${this.grants.get(jobId)!.seq}`;
    if (this.reversals.has(jobId)) return `job ${jobId} was reversed at seq ${this.reversals.get(jobId)!.seq}`;
    // A long run is checked by no one, and earns budget x its class's weight for a price of its
    // budget: on its requester's own runner it minted credits (a class at 16x the reference's pace:
    // 1,800 paid, 28,800 earned, without training). There it earns nothing.
    const requester = this.longRuns.has(jobId) ? this.dispatched.get(jobId)?.author : null;
    if (requester && requester.toLowerCase() === r.data.runner_owner.toLowerCase()) return `job ${jobId} is a long run of ${requester} on their own runner: it earns nothing`;
    const v = this.verifications.get(jobId);
    if (v && !v.data.agreed && !this.trust.checked.has(jobId)) return `the verification of job ${jobId} disagreed (seq ${v.seq})`;
    const why = this.trust.uncounted(r, this.longRuns.has(jobId));
    return awaiting && why && this.trust.awaiting(r.data) ? null : why;
  }

  /**
   * The training seconds a result earns for: its claimed train_seconds, capped by the budget the
   * job was dispatched with and by the job time GitHub measured when recorded.
   */
  creditedSeconds(r: EntryDataOf<'result_recorded'>): number {
    const budget = this.dispatched.get(r.job_id)?.budget_seconds ?? Infinity;
    return Math.min(r.result!.train_seconds, budget, r.job_seconds ?? Infinity);
  }

  /** The grant for a validated result, or null when it earns nothing (see `ungrantable`) or its class has no baseline yet. */
  creditFor(jobId: string, referenceClass?: string, awaiting = false): NewEntry<'credit_granted'> | null {
    if (this.ungrantable(jobId, awaiting)) return null;
    const r = this.results.get(jobId)!.data;
    const res = r.result!;
    const w = this.weight(res.hardware_class, referenceClass);
    if (!w) return null;
    return {
      type: 'credit_granted',
      data: {
        login: r.runner_owner!,
        amount: round3(this.creditedSeconds(r) * w.weight),
        job_id: jobId,
        train_seconds: this.creditedSeconds(r),
        hardware_class: res.hardware_class,
        class_weight: w.weight,
        weight_basis: w.basis,
      },
    };
  }

  /** What differs between a grant and what the ledger before it supports, or null. */
  grantProblem(g: EntryDataOf<'credit_granted'>): string | null {
    const why = this.ungrantable(g.job_id);
    if (why) return `credit_granted to ${g.login}: ${why}`;
    const r = this.results.get(g.job_id)!.data;
    const res = r.result!;
    if (g.login !== r.runner_owner) return `credit_granted to ${g.login} but job ${g.job_id} ran on a runner of ${r.runner_owner}`;
    const seconds = this.creditedSeconds(r);
    if (g.train_seconds !== seconds) return `train_seconds is ${g.train_seconds} but the result of job ${g.job_id} earns ${seconds} (train_seconds ${res.train_seconds}, budget ${this.dispatched.get(g.job_id)?.budget_seconds ?? 'not dispatched'}, job time ${r.job_seconds ?? 'not recorded'})`;
    if (g.hardware_class !== res.hardware_class) return `hardware_class is ${g.hardware_class} but the result of job ${g.job_id} ran on ${res.hardware_class}`;
    const m = BASIS.exec(g.weight_basis);
    if (!m) return `weight_basis "${g.weight_basis}" does not cite its baselines in the form "tokens/s A on CLASS (baseline seq N) / B on reference REF (baseline seq M)"`;
    const [, a, cls, aSeq, b, ref, bSeq] = m;
    const own = this.baselineBySeq.get(Number(aSeq));
    const rb = this.baselineBySeq.get(Number(bSeq));
    if (!own || own.data.hardware_class !== cls || cls !== g.hardware_class || String(own.data.tokens_per_second) !== a) {
      return `weight_basis cites a baseline of ${cls} at seq ${aSeq} with ${a} tokens/s, but no such baseline_recorded entry precedes the grant`;
    }
    if (!rb || rb.data.hardware_class !== ref || String(rb.data.tokens_per_second) !== b) {
      return `weight_basis cites a reference baseline of ${ref} at seq ${bSeq} with ${b} tokens/s, but no such baseline_recorded entry precedes the grant`;
    }
    const weight = this.capped(own.data.tokens_per_second / rb.data.tokens_per_second);
    if (Math.abs(g.class_weight - weight) > 1e-9 * weight) return `class_weight is ${g.class_weight} but ${a} / ${b} = ${weight}${weight !== own.data.tokens_per_second / rb.data.tokens_per_second ? ' (capped by max_class_weight)' : ''}`;
    const amount = round3(seconds * weight);
    if (Math.abs(g.amount - amount) > 1e-9) return `amount is ${g.amount} but ${seconds} s x ${weight} = ${amount}`;
    return null;
  }

  /** Balances with pending credit estimated at today's weights. */
  balances(referenceClass?: string): Map<string, Balance> {
    const out = new Map<string, Balance>();
    for (const [login, a] of this.accounts) {
      out.set(login, { ...a, pending: 0, balance: round3(a.earned - a.spent - a.reversed), history: [...a.history] });
    }
    for (const [login, pending] of this.pendingCredit(referenceClass)) out.get(login)!.pending = pending;
    return out;
  }

  /** Each runner owner's pending credit (a pass over every result), kept until the state changes: the App asks on every event. */
  private pendingCredit(referenceClass?: string): Map<string, number> {
    if (this.pendingMemo && this.pendingMemo.referenceClass === referenceClass) return this.pendingMemo.pending;
    const pending = new Map<string, number>();
    for (const [jobId, r] of this.results) {
      if (!r.data.validated || !r.data.runner_owner || this.ungrantable(jobId, true)) continue;
      const g = this.creditFor(jobId, referenceClass, true);
      const login = r.data.runner_owner;
      if (!pending.has(login)) pending.set(login, 0);
      if (g) pending.set(login, round3(pending.get(login)! + g.data.amount));
    }
    this.pendingMemo = { referenceClass, pending };
    return pending;
  }
}

/** Every contributor's balance (runner owners and authors), recomputed from the entries alone. */
export function computeBalances(entries: LedgerEntry[], referenceClass?: string): Map<string, Balance> {
  return LedgerState.of(entries).balances(referenceClass);
}

export function classWeight(entries: LedgerEntry[], hardwareClass: string, referenceClass?: string): ClassWeight | null {
  return LedgerState.of(entries).weight(hardwareClass, referenceClass);
}

/**
 * The credit_granted entry to append for a recorded result (by job_id or its entry), or null
 * when it earns nothing: rejected, already granted or reversed, verification disagreed, or its
 * class has no baseline yet (it stays pending). Null on a second call makes grants idempotent.
 */
export function creditForResult(
  entries: LedgerEntry[],
  result: string | LedgerEntry<'result_recorded'> | EntryDataOf<'result_recorded'>,
  referenceClass?: string,
): NewEntry<'credit_granted'> | null {
  const jobId = typeof result === 'string' ? result : 'job_id' in result ? result.job_id : result.data.job_id;
  return LedgerState.of(entries).creditFor(jobId, referenceClass);
}

/**
 * After a proven forgery by `runnerOwner`: reversals for that owner's results that no
 * verification agreed with, recorded after its last agreed one. Granted credit is reversed in
 * full; results not granted yet get a zero reversal so they never will be.
 */
export function reversalsForForgery(entries: LedgerEntry[], runnerOwner: string, reason = 'forgery proven'): NewEntry<'credit_reversed'>[] {
  const s = LedgerState.of(entries);
  const own = [...s.results.values()].filter((r) => r.data.runner_owner === runnerOwner && r.data.validated);
  const agreed = (jobId: string) => s.verifications.get(jobId)?.data.agreed === true;
  const lastAgreed = own.reduce((m, r) => (agreed(r.data.job_id) ? Math.max(m, r.seq) : m), -1);
  return own
    .filter((r) => r.seq > lastAgreed && !agreed(r.data.job_id) && !s.reversals.has(r.data.job_id))
    .map((r) => ({
      type: 'credit_reversed' as const,
      data: { login: runnerOwner, amount: s.grants.get(r.data.job_id)?.data.amount ?? 0, job_id: r.data.job_id, reason },
    }));
}

/**
 * Free-tier runs `login` has left on the UTC day of `now` (free runs are credit_spent entries with
 * reason FREE_TIER_REASON). A scan of the entries; the App asks its folded state instead
 * (LedgerState.freeRunsLeft), which counts the same entries as they are applied.
 */
export function freeRunsLeft(entries: LedgerEntry[], login: string, perDay: number, now: Date = new Date(Date.now()), accountId?: number): number {
  const used = new Map<string, number>();
  const jobAccounts = new Map<string, number>();
  const loginAccounts = new Map<string, number>();
  const count = (key: string) => used.set(key, (used.get(key) ?? 0) + 1);
  for (const e of entries) {
    const d = e.data as { login?: string; author?: string | null; author_id?: number; job_id?: string; reason?: string };
    if ((e.type === 'job_dispatched' || e.type === 'experiment_queued') && d.author && d.author_id !== undefined) {
      loginAccounts.set(d.author, d.author_id);
      if (e.type === 'job_dispatched') jobAccounts.set(d.job_id!, d.author_id);
    }
    if (e.type !== 'credit_spent' || d.reason !== FREE_TIER_REASON) continue;
    count(freeRunKey(d.login!, e.time));
    const id = jobAccounts.get(d.job_id!) ?? loginAccounts.get(d.login!);
    if (id !== undefined) count(freeRunKey(`id:${id}`, e.time));
  }
  const id = accountId ?? loginAccounts.get(login);
  return Math.max(0, perDay - Math.max(...freeRunDays(now).map((day) => Math.max(used.get(`${login} ${day}`) ?? 0, id === undefined ? 0 : (used.get(`id:${id} ${day}`) ?? 0)))));
}

/**
 * The UTC days whose free-tier runs a run granted at `now` must fit in: the day of `now`, and the
 * next. The App decides on its clock when it handles an event and stamps the credit_spent with its
 * clock when it appends it, a few API calls later; the audit counts a free run on its stamp's day.
 * Around midnight a decision of the day before made a spend of the day after: before, every
 * decision of the last seconds before midnight saw its day untouched (their spends counted on the
 * next), so an author had any number of free runs then, and the App's own ledger failed the audit's
 * free runs per day. Now a run is free only when both days have one left.
 */
function freeRunDays(now: Date): string[] {
  const t = now.getTime();
  return [new Date(t).toISOString().slice(0, 10), new Date(t + 86_400_000).toISOString().slice(0, 10)];
}

/** A login's free-tier day: the UTC date of a timestamp (entries may carry an offset). */
function freeRunKey(login: string, time: string): string {
  const t = Date.parse(time);
  return `${login} ${Number.isNaN(t) ? time : new Date(t).toISOString().slice(0, 10)}`;
}

