// Red team: spending credits (app/policy/payment.ts, app/policy/long-run.ts) against what the
// ledger says (ledger/credits.ts) and what `npm run ledger -- verify` accepts (ledger/audit.ts).
// Each attack is written as a test; one that succeeded before its fix says so and what the fix was.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, auditLedger, DEFAULT_TRUST_POLICY, FREE_TIER_REASON, freeRunsLeft, LedgerState, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { payment, experimentCost } from '../../app/policy/payment.js';
import { longRunRefusal, longRunReason } from '../../app/policy/long-run.js';
import { baseline, dispatched, recorded, spent } from './fixtures.js';

const build = (news: NewEntry[], time = '2026-03-02T10:00:00.000Z'): LedgerEntry[] => appendEntries([], news.map((n) => ({ time, ...n })));
const extend = (chain: LedgerEntry[], news: NewEntry[], time: string): LedgerEntry[] => [...chain, ...appendEntries(chain, news.map((n) => ({ time, ...n })))];
const PER_DAY = 3;
const free = (login: string, job: string): NewEntry[] => [dispatched(job, login), spent(login, 0, job, FREE_TIER_REASON)];
/** what the App's pull_request handler pays with (app/handlers/pull-request.ts payOn), on the state of `entries` at `now` */
const payOn = (entries: LedgerEntry[], login: string, now: Date) => {
  const s = LedgerState.of(entries);
  return payment(s.balances().get(login)?.balance ?? 0, experimentCost(300), s.freeRunsLeft(login, PER_DAY, now));
};

describe('the free tier at midnight UTC', () => {
  // The App decides a run is free on the day of its clock when it handles the push (s.now()),
  // and stamps the credit_spent with its clock when it appends it, a few API calls later. A push
  // handled at 23:59:59 whose spend lands at 00:00:01 is counted on the next day. Before, the
  // App asked only the day of `now`: every decision of the last seconds before midnight saw that
  // day untouched (the spends they made had all landed on the next day), so an author with
  // three PRs queued had a fourth, fifth, ... run free, and the audit (free runs per day,
  // counted on the stamp's day, as the App stamped them) then failed the App's own ledger.
  // Now a free-tier run is left only when the day of `now` and any later day already used
  // (spends stamped after midnight) both have one left.
  it('cannot get a fourth free run by pushing in the seconds before midnight', () => {
    let chain = build([baseline('gpu-a10g', 20_000)]);
    for (const j of ['f1', 'f2', 'f3']) {
      const decided = new Date('2026-03-02T23:59:59.000Z');
      expect(payOn(chain, 'agent-mallory', decided)).toEqual({ amount: 0, reason: FREE_TIER_REASON });
      chain = extend(chain, free('agent-mallory', j), '2026-03-03T00:00:01.000Z'); // landed after midnight
    }
    // a fourth push, still handled before midnight
    const fourth = payOn(chain, 'agent-mallory', new Date('2026-03-02T23:59:59.500Z'));
    expect(fourth).toBeNull();
    expect(freeRunsLeft(chain, 'agent-mallory', PER_DAY, new Date('2026-03-02T23:59:59.500Z'))).toBe(0);
    // the App's own three are fine with the audit; the day after has none left, the day of now none either
    expect(auditLedger(chain, { freeRunsPerDay: PER_DAY }).ok).toBe(true);
    expect(LedgerState.of(chain).freeRunsLeft('agent-mallory', PER_DAY, new Date('2026-03-03T12:00:00Z'))).toBe(0);
    // what the App did before: the fourth lands after midnight too, and the audit fails the App's own ledger
    const fourthPaid = extend(chain, free('agent-mallory', 'f4'), '2026-03-03T00:00:02.000Z');
    expect(auditLedger(fourthPaid, { freeRunsPerDay: PER_DAY })).toMatchObject({ ok: false, problem: expect.stringMatching(/agent-mallory used free run 4 on 2026-03-03 but the free tier allows 3 per day/) });
  });

  it('still gives the next day its runs, and an untouched author theirs, after midnight', () => {
    let chain = build([baseline('gpu-a10g', 20_000)]);
    chain = extend(chain, [...free('agent-alice', 'a1'), ...free('agent-alice', 'a2'), ...free('agent-alice', 'a3')], '2026-03-02T23:00:00.000Z');
    expect(payOn(chain, 'agent-alice', new Date('2026-03-02T23:59:59Z'))).toBeNull();
    expect(payOn(chain, 'agent-alice', new Date('2026-03-03T00:00:00Z'))).toEqual({ amount: 0, reason: FREE_TIER_REASON });
    expect(freeRunsLeft(chain, 'agent-alice', PER_DAY, new Date('2026-03-03T00:00:00Z'))).toBe(3);
    expect(freeRunsLeft(chain, 'agent-bob', PER_DAY, new Date('2026-03-02T23:59:59Z'))).toBe(3);
  });

  // Not an attack: the day is the App's (its clock when it decides, its stamp on the entry), never
  // a time the requester supplies (a PR's created_at, a commit date); an entry time with an offset
  // is counted on its UTC day by the App and the audit alike.
  it('counts a spend stamped with an offset on its UTC day, in the App and the audit alike', () => {
    let chain = build([baseline('gpu-a10g', 20_000)]);
    chain = extend(chain, [...free('agent-alice', 'a1'), ...free('agent-alice', 'a2')], '2026-03-02T23:30:00.000Z');
    chain = extend(chain, free('agent-alice', 'a3'), '2026-03-03T01:30:00.000+02:00'); // 23:30 UTC on the 2nd
    expect(freeRunsLeft(chain, 'agent-alice', PER_DAY, new Date('2026-03-02T23:45:00Z'))).toBe(0);
    expect(LedgerState.of(chain).freeRunsLeft('agent-alice', PER_DAY, new Date('2026-03-02T23:45:00Z'))).toBe(0);
    expect(auditLedger(extend(chain, free('agent-alice', 'a4'), '2026-03-02T23:50:00.000Z'), { freeRunsPerDay: PER_DAY })).toMatchObject({ ok: false, problem: expect.stringMatching(/free run 4 on 2026-03-02/) });
  });
});

describe('credits spent and then reversed', () => {
  // mallory's runner earns 1800 (granted: confirmed), mallory spends it on a long run, then the
  // result that earned it is outvoted and its credit reversed: her balance is -1800.
  const earnSpendReverse = (): LedgerEntry[] =>
    build([
      baseline('gpu-a10g', 20_000),
      dispatched('j1', 'agent-x'),
      recorded('j1', 'mallory', { train_seconds: 1800 }),
      { type: 'credit_granted', data: { login: 'mallory', amount: 300, job_id: 'j1', train_seconds: 300, hardware_class: 'gpu-a10g', class_weight: 1, weight_basis: 'tokens/s 20000 on gpu-a10g (baseline seq 0) / 20000 on reference gpu-a10g (baseline seq 0)' } },
      { ...dispatched('L1', 'mallory'), data: { ...dispatched('L1', 'mallory').data, budget_seconds: 300 } },
      spent('mallory', 300, 'L1', longRunReason(5)),
      { type: 'credit_reversed', data: { login: 'mallory', amount: 300, job_id: 'j1', reason: 'outvoted' } },
    ]);

  it('nothing recorded is lost: the spend and the reversal both stand, and the balance goes below zero', () => {
    const chain = earnSpendReverse();
    const a = auditLedger(chain);
    expect(a.ok).toBe(true);
    const b = LedgerState.of(chain).balances().get('mallory')!;
    expect(b).toMatchObject({ earned: 300, spent: 300, reversed: 300, balance: -300 });
  });

  it('a debtor cannot spend again: no paid run, no long run, and the audit refuses a paid spend', () => {
    const chain = earnSpendReverse();
    expect(longRunRefusal('mallory', -300, 1800, 5000)).toMatch(/has -300 credits and the run costs 1800/);
    const more = extend(chain, [dispatched('j9', 'mallory'), spent('mallory', 300, 'j9')], '2026-03-02T11:00:00.000Z');
    expect(auditLedger(more)).toMatchObject({ ok: false, problem: expect.stringMatching(/takes the balance to -600.000, below the allowed 0/) });
  });

  // Before: payment() fell back on the free tier whenever the balance did not cover the cost, so
  // an owner whose credits were reversed after she had spent them went on running experiments on
  // the swarm's runners every day, her debt never repaid. Now a balance below zero (a debt)
  // refuses the free tier too, until the owner's runners earn it back.
  it('a debtor gets no free-tier run until her balance is back at zero', () => {
    const chain = earnSpendReverse();
    expect(payOn(chain, 'mallory', new Date('2026-03-02T12:00:00Z'))).toBeNull();
    expect(payment(-0.001, 300, 3)).toBeNull();
    // repaid (exactly zero): the free tier again
    expect(payment(0, 300, 3)).toEqual({ amount: 0, reason: FREE_TIER_REASON });
    // a newcomer with nothing is not a debtor
    expect(payOn(chain, 'agent-newcomer', new Date('2026-03-02T12:00:00Z'))).toEqual({ amount: 0, reason: FREE_TIER_REASON });
  });

  // Not an attack: spending draws on the balance (earned - spent - reversed), never on pending
  // credit (validated results that no other owner has confirmed yet). An owner whose only credit
  // is pending cannot buy a long run or a paid experiment with it.
  it('pending credit (not yet confirmed) cannot be spent', () => {
    const chain = build([baseline('gpu-a10g', 20_000), { type: 'trust_policy', data: DEFAULT_TRUST_POLICY }, dispatched('j1', 'agent-x'), recorded('j1', 'mallory')]);
    const b = LedgerState.of(chain).balances().get('mallory')!;
    expect(b.pending).toBeGreaterThan(0);
    expect(b.balance).toBe(0);
    expect(longRunRefusal('mallory', b.balance, 1800, 5000)).toMatch(/has 0 credits/);
    expect(payment(b.balance, 300, 0)).toBeNull();
    const spend = extend(chain, [dispatched('L1', 'mallory'), spent('mallory', 300, 'L1')], '2026-03-02T11:00:00.000Z');
    expect(auditLedger(spend)).toMatchObject({ ok: false, problem: expect.stringMatching(/takes the balance to -300.000/) });
  });
});
