// What the ledger says of each runner owner's trust (docs/trust.md): on probation (every result
// re-run by another owner until `replicate_until` agreeing results), trusted (spot-checked), or
// banned; its faults; and the replays of its runs, passed or failed. Recomputed from the ledger
// with the ledger module's own fold (the same one `npm run ledger -- verify` and the App use), so the
// page shows what the policy decided, not what an entry claims.
import { LedgerState, type LedgerEntry } from '../../ledger/index.js';
import type { ApiOwnerTrust } from './api-schema.js';

const key = (x: string) => x.toLowerCase();

/** Trust of every owner with a recorded result, by lower-cased login. */
export function ownerTrust(entries: LedgerEntry[]): Map<string, ApiOwnerTrust> {
  const state = LedgerState.of(entries);
  const book = state.trust;
  const policy = book.policy;
  const out = new Map<string, ApiOwnerTrust>();
  for (const o of book.owners.values()) {
    const banned = book.banned(o.login);
    out.set(key(o.login), {
      status: banned ? 'banned' : book.trusted(o.login, policy) ? 'trusted' : 'probation',
      agreed: o.agreed,
      needed: policy?.replicate_until ?? 0,
      faults: o.faults,
      replays_passed: 0,
      replays_failed: 0,
      banned_reason: banned,
    });
  }
  const ownerOf = (jobId: string) => state.results.get(jobId)?.data.runner_owner ?? null;
  for (const v of book.replays.values()) {
    if (v.verdict !== 'agreed' && v.verdict !== 'outvoted') continue;
    for (const j of v.group) {
      const t = out.get(key(ownerOf(j) ?? ''));
      if (t) t.replays_passed++;
    }
    for (const j of v.outvoted) {
      const t = out.get(key(ownerOf(j) ?? ''));
      if (t) t.replays_failed++;
    }
  }
  return out;
}

/** "trusted", "probation 3 of 10", "banned": a line for the contributors page. */
export function trustLabel(t: ApiOwnerTrust): string {
  if (t.status === 'probation') return `probation (${Math.min(t.agreed, t.needed)} of ${t.needed})`;
  return t.status;
}
