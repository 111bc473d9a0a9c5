// Red-team attacks on `npm run ledger -- verify` (auditLedger): ledgers the App would never write,
// which the audit must flag because the balances or free runs in them break the credit rules.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, auditLedger, FREE_TIER_REASON, longRunReason, type NewEntry } from '../../ledger/index.js';
import { baseline, dispatched, recorded, spent } from './fixtures.js';
import { LedgerState } from '../../ledger/index.js';
import { trustPolicyOf } from '../../app/policy/replication.js';
import { loadConfig } from '../../app/config.js';

const chain = (...news: NewEntry[]) => appendEntries([], news);

describe('verify, on what a run was paid', () => {
  // Before: the audit checked a spend's author and that it left no overdraft, never its amount. A
  // spend of 0 under any reason but `free_tier` (or of 1 credit for a 300-second run) passed: a
  // paid run at no cost that no --free-per-day counted. Now a spend that is not free-tier must
  // charge its job's budget (one credit per second, docs/ledger.md), as the App always does.
  it('flags a run paid with less than its budget outside the free tier', () => {
    expect(auditLedger(chain(dispatched('j1', 'agent-alice'), spent('agent-alice', 0, 'j1', 'experiment on PR #7')))).toMatchObject({
      ok: false,
      seq: 1,
      problem: expect.stringMatching(/credit_spent of 0 by agent-alice for job j1, but the job's budget is 300 s/),
    });
    expect(auditLedger(chain(dispatched('j1', 'agent-alice'), spent('agent-alice', 0, 'j1', longRunReason(40))))).toMatchObject({ ok: false, seq: 1 });
    // the free tier is still free, and counted
    expect(auditLedger(chain(dispatched('j1', 'agent-alice'), spent('agent-alice', 0, 'j1', FREE_TIER_REASON)), { freeRunsPerDay: 1 }).ok).toBe(true);
  });

  // With an overdraft allowed (--overdraft), the amount is the only thing that says a run was
  // paid in full: a spend of a fraction of the budget must not pass.
  it('flags a paid run charged a fraction of its budget, even where debt is allowed', () => {
    expect(auditLedger(chain(dispatched('j1', 'agent-alice'), spent('agent-alice', 1, 'j1', 'experiment on PR #7')), { maxOverdraft: 1000 })).toMatchObject({ ok: false, seq: 1 });
    expect(auditLedger(chain(dispatched('j1', 'agent-alice'), spent('agent-alice', 300, 'j1', 'experiment on PR #7')), { maxOverdraft: 1000 }).ok).toBe(true);
  });
});

describe('credits for long runs', () => {
  const policy = { type: 'trust_policy', data: trustPolicyOf(loadConfig('').config) } as NewEntry;
  const longRun = (owner: string, ...more: NewEntry[]) =>
    LedgerState.of(chain(policy, baseline('gpu-a10g', 1000), dispatched('lr1', 'alice'), spent('alice', 300, 'lr1', longRunReason(40)), ...more, recorded('lr1', owner, { author: 'alice' })));

  // Before: the trust rules exempted a long run before they looked at bans: a banned owner's runner
  // that took one was credited (and the audit agreed). Now the ban is checked first.
  it('grants a banned owner nothing for a long run', () => {
    expect(longRun('bob').creditFor('lr1')?.data).toMatchObject({ login: 'bob', amount: 300 });
    expect(longRun('bob', { type: 'owner_banned', data: { login: 'bob', reason: 'two faults' } }).creditFor('lr1')).toBeNull();
  });

  // Before: a long run, checked by no one, earned its runner budget x class weight for a price of
  // its budget, also on the requester's own runner (ledger/credits.ts; the App-level attack is in
  // test/app/red-team-credits.test.ts).
  it("grants nothing for a long run on its requester's own runner", () => {
    expect(longRun('alice').creditFor('lr1')).toBeNull();
    expect(longRun('ALICE').creditFor('lr1')).toBeNull();
  });
});

