// The full check behind `npm run ledger -- verify`: the hash chain, then every credit movement
// replayed in order against what the ledger before it supports.
import { verifyChain, type ChainCheck, type ChainHead } from './chain.js';
import { FREE_TIER_REASON, LedgerState, type Balance } from './credits.js';
import type { EntryDataOf, LedgerEntry } from './entries.js';

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
export function replayCredits(entries: LedgerEntry[], policy: AuditPolicy = {}): { ok: true; balances: Map<string, Balance> } | { ok: false; seq: number; problem: string } {
  const overdraft = policy.maxOverdraft ?? 0;
  const s = new LedgerState();
  const freeUsed = new Map<string, number>();
  const jobAuthors = new Map<string, string | null>();
  for (const e of entries) if (e.type === 'job_dispatched') jobAuthors.set((e as LedgerEntry<'job_dispatched'>).data.job_id, (e as LedgerEntry<'job_dispatched'>).data.author);
  for (const e of entries) {
    const problem = creditProblem(s, e, { overdraft, freeUsed, jobAuthors, freePerDay: policy.freeRunsPerDay });
    if (problem) return { ok: false, seq: e.seq, problem };
    s.apply(e);
  }
  return { ok: true, balances: s.balances() };
}

function creditProblem(
  s: LedgerState,
  e: LedgerEntry,
  ctx: { overdraft: number; freeUsed: Map<string, number>; jobAuthors: Map<string, string | null>; freePerDay?: number },
): string | null {
  switch (e.type) {
    case 'credit_granted':
      return s.grantProblem((e as LedgerEntry<'credit_granted'>).data);
    case 'credit_spent': {
      const d = (e as LedgerEntry<'credit_spent'>).data;
      if (!ctx.jobAuthors.has(d.job_id)) return `credit_spent by ${d.login} for job ${d.job_id}, but no job_dispatched entry has that job_id`;
      const author = ctx.jobAuthors.get(d.job_id);
      if (author !== d.login) return `credit_spent by ${d.login} for job ${d.job_id}, but that job's author is ${author ?? 'the swarm (null)'}`;
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
    case 'verification': {
      const d = (e as LedgerEntry<'verification'>).data;
      if (!s.results.has(d.job_id)) return `verification of job ${d.job_id}, but no earlier result_recorded entry has that job_id`;
      return null;
    }
    default:
      return null;
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
