import { describe, it, expect } from '@jest/globals';
import {
  appendEntries,
  auditLedger,
  classWeight,
  computeBalances,
  creditForResult,
  FREE_TIER_REASON,
  freeRunsLeft,
  hashEntry,
  LedgerState,
  reversalsForForgery,
  verifyChain,
  ZERO_HASH,
  type LedgerEntry,
  type NewEntry,
} from '../../ledger/index.js';
import { at, baseline, dispatched, recorded, sha40, spent, verification } from './fixtures.js';

/** An App-like writer: appends, grants what creditForResult allows, and keeps its own running tally. */
class Writer {
  entries: LedgerEntry[] = [];
  running = new Map<string, number>();
  add(...news: NewEntry[]) {
    const added = appendEntries(this.entries, news);
    this.entries.push(...added);
    for (const e of added) {
      const d = e.data as { login?: string; amount?: number };
      const sign = e.type === 'credit_granted' ? 1 : e.type === 'credit_spent' || e.type === 'credit_reversed' ? -1 : 0;
      if (sign) this.running.set(d.login!, (this.running.get(d.login!) ?? 0) + sign * d.amount!);
    }
    return added;
  }
  grant(jobId: string, ref?: string) {
    const g = creditForResult(this.entries, jobId, ref);
    if (g) this.add(g);
    return g;
  }
}

describe('class weights', () => {
  it('weighs a class by its baseline tokens/s over the reference class, citing the numbers', () => {
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000));
    expect(classWeight(w.entries, 'gpu-rtx-4090')).toEqual({
      weight: 2.05,
      hardware_class: 'gpu-rtx-4090',
      reference_class: 'gpu-a10g',
      basis: 'tokens/s 41000 on gpu-rtx-4090 (baseline seq 1) / 20000 on reference gpu-a10g (baseline seq 0)',
    });
    expect(classWeight(w.entries, 'gpu-a10g')!.weight).toBe(1);
    expect(classWeight(w.entries, 'gpu-a10g', 'gpu-rtx-4090')!.weight).toBeCloseTo(20_000 / 41_000, 12);
    expect(classWeight(w.entries, 'gpu-h100-80gb')).toBeNull();
  });

  it("pairs the class's latest baseline with the reference's baseline of the same commit", () => {
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000, sha40(1)), baseline('gpu-rtx-4090', 40_000, sha40(1)), baseline('gpu-a10g', 10_000, sha40(2)));
    expect(classWeight(w.entries, 'gpu-rtx-4090')!.weight).toBe(2); // not 40000/10000: that baseline ran a different train.ts
  });
});

describe('grants, pending, spending and reversal', () => {
  function swarm() {
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000));
    w.add(dispatched('j1', 'agent-alice'), spent('agent-alice', 0, 'j1', FREE_TIER_REASON));
    w.add(recorded('j1', 'gpu-bob', { hardware_class: 'gpu-rtx-4090', train_seconds: 300 }));
    return w;
  }

  it('keeps a validated result pending until its grant, then grants train_seconds x weight once', () => {
    const w = swarm();
    expect(computeBalances(w.entries).get('gpu-bob')).toMatchObject({ earned: 0, pending: 615, balance: 0 });
    const g = w.grant('j1')!;
    expect(g.data).toMatchObject({ login: 'gpu-bob', amount: 615, train_seconds: 300, class_weight: 2.05 });
    expect(computeBalances(w.entries).get('gpu-bob')).toMatchObject({ earned: 615, pending: 0, balance: 615 });
    expect(creditForResult(w.entries, 'j1')).toBeNull(); // a redelivered webhook grants nothing twice
    expect(auditLedger(w.entries).ok).toBe(true);
  });

  it('answers balances from the state as it is now when entries are applied between two questions, and a copy goes its own way', () => {
    const w = swarm();
    const state = LedgerState.of(w.entries);
    expect(state.balances().get('gpu-bob')).toMatchObject({ earned: 0, pending: 615 });
    const copy = state.clone();
    const [grant] = appendEntries(w.entries, [creditForResult(w.entries, 'j1')!]);
    state.apply(grant);
    expect(state.balances().get('gpu-bob')).toMatchObject({ earned: 615, pending: 0 });
    expect(copy.balances().get('gpu-bob')).toMatchObject({ earned: 0, pending: 615 });
    copy.account('gpu-carol');
    expect([...copy.balances().keys()]).toContain('gpu-carol');
    expect([...state.balances().keys()]).not.toContain('gpu-carol');
    // an entry that moves no account still changes what is pending: a disagreeing verification
    const [disagreed] = appendEntries(w.entries, [verification('j1', false)]);
    copy.apply(disagreed);
    expect(copy.balances().get('gpu-bob')).toMatchObject({ earned: 0, pending: 0 });
  });

  it('grants nothing for a rejected result or a disagreeing verification', () => {
    const w = swarm();
    w.add(recorded('j2', 'gpu-eve', { validated: false }), verification('j1', false));
    expect(creditForResult(w.entries, 'j2')).toBeNull();
    expect(creditForResult(w.entries, 'j1')).toBeNull();
    const b = computeBalances(w.entries);
    expect(b.get('gpu-bob')!.pending).toBe(0);
    expect(b.get('gpu-eve')).toBeUndefined();
  });

  it('reverses a forger\'s unverified credits since its last agreed result, and the audit accepts it', () => {
    const w = swarm();
    w.add(verification('j1', true));
    w.grant('j1');
    w.add(recorded('j2', 'gpu-bob'), recorded('j3', 'gpu-bob'), recorded('j4', 'gpu-carl'));
    w.grant('j2');
    w.grant('j4');
    // j3 is still pending when bob's forgery is proven
    const reversals = reversalsForForgery(w.entries, 'gpu-bob', 'forged result.json in job j5');
    expect(reversals.map((r) => [r.data.job_id, r.data.amount])).toEqual([
      ['j2', 300],
      ['j3', 0],
    ]);
    w.add(...reversals);
    expect(reversalsForForgery(w.entries, 'gpu-bob')).toEqual([]); // idempotent
    const bob = computeBalances(w.entries).get('gpu-bob')!;
    expect(bob).toMatchObject({ earned: 915, reversed: 300, balance: 615, pending: 0 });
    expect(creditForResult(w.entries, 'j3')).toBeNull();
    expect(computeBalances(w.entries).get('gpu-carl')!.balance).toBe(300);
    expect(auditLedger(w.entries).ok).toBe(true);
  });

  it('recomputes from the ledger alone the balances a writer kept running', () => {
    // A deterministic pseudo-random month of swarm activity.
    let x = 7;
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const owners = ['gpu-bob', 'gpu-carl', 'gpu-dora'];
    const authors = ['agent-alice', 'agent-zed'];
    const classes = ['gpu-a10g', 'gpu-rtx-4090', 'gpu-h100-80gb'];
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000), baseline('gpu-h100-80gb', 97_500));
    for (let i = 0; i < 300; i++) {
      const job = `job-${i}`;
      const author = authors[Math.floor(rnd() * authors.length)];
      const balance = computeBalances(w.entries).get(author)?.balance ?? 0;
      w.add(dispatched(job, author), balance >= 300 ? spent(author, 300, job) : spent(author, 0, job, FREE_TIER_REASON));
      const owner = owners[Math.floor(rnd() * owners.length)];
      w.add(recorded(job, owner, { hardware_class: classes[Math.floor(rnd() * 3)], train_seconds: 290 + Math.floor(rnd() * 20), validated: rnd() > 0.1 }));
      if (rnd() < 0.3) w.add(verification(job, rnd() > 0.2));
      const g = w.grant(job);
      if (g && rnd() < 0.05) w.add({ type: 'credit_reversed', data: { login: g.data.login, amount: g.data.amount, job_id: job, reason: 'spot check failed' } });
      // authors earn too when they also lend GPUs
      if (i === 150) w.add(recorded('lend-1', 'agent-alice', { train_seconds: 3000 })), w.grant('lend-1');
    }
    expect([...w.running.values()].some((v) => v > 0)).toBe(true);
    const recomputed = computeBalances(w.entries);
    for (const [login, running] of w.running) expect(recomputed.get(login)!.balance).toBeCloseTo(running, 6);
    expect(auditLedger(w.entries).ok).toBe(true);
  });
});

describe('the audit', () => {
  function ledgerWith(...tail: NewEntry[]) {
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000), dispatched('j1', 'agent-alice'), recorded('j1', 'gpu-bob', { hardware_class: 'gpu-rtx-4090' }));
    const grant = creditForResult(w.entries, 'j1')!;
    w.add(...(tail.length ? tail.map((t) => (t === GRANT ? grant : t)) : [grant]));
    return w.entries;
  }
  const GRANT = { type: 'credit_granted' } as NewEntry;

  it('finds a grant that pays more than the recorded seconds and weight support, at its seq', () => {
    const entries = ledgerWith();
    const g = entries[4] as LedgerEntry<'credit_granted'>;
    const forged = appendEntries(entries.slice(0, 4), [{ type: 'credit_granted', data: { ...g.data, amount: 900 } }]);
    expect(auditLedger([...entries.slice(0, 4), ...forged])).toMatchObject({ ok: false, seq: 4, problem: 'amount is 900 but 300 s x 2.05 = 615' });
  });

  it('caps the credited seconds at the job time GitHub measured, and finds a grant that ignores the cap', () => {
    const w = new Writer();
    const r = recorded('j1', 'gpu-bob', { hardware_class: 'gpu-rtx-4090' });
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000), dispatched('j1', 'agent-alice'), { ...r, data: { ...r.data, job_seconds: 100 } });
    const grant = creditForResult(w.entries, 'j1')!;
    expect(grant.data).toMatchObject({ train_seconds: 100, amount: 205 });
    const honest = appendEntries(w.entries, [grant]);
    expect(auditLedger([...w.entries, ...honest])).toMatchObject({ ok: true });
    const uncapped = appendEntries(w.entries, [{ type: 'credit_granted', data: { ...grant.data, train_seconds: 300, amount: 615 } }]);
    expect(auditLedger([...w.entries, ...uncapped])).toMatchObject({ ok: false, seq: 4, problem: expect.stringMatching(/earns 100 \(train_seconds 300, budget 300, job time 100\)/) });
  });

  it('caps the credited seconds at the dispatched budget, and finds a grant that pays for more', () => {
    const w = new Writer();
    const r = recorded('j1', 'gpu-bob', { hardware_class: 'gpu-rtx-4090' });
    // result.json claims 1190 s of training; the job was dispatched with 300 s and GitHub timed it at 1250 s
    w.add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000), dispatched('j1', 'agent-alice'), { ...r, data: { ...r.data, job_seconds: 1250, result: { ...r.data.result!, train_seconds: 1190 } } });
    const grant = creditForResult(w.entries, 'j1')!;
    expect(grant.data).toMatchObject({ train_seconds: 300, amount: 615 });
    const padded = appendEntries(w.entries, [{ type: 'credit_granted', data: { ...grant.data, train_seconds: 1190, amount: 2439.5 } }]);
    expect(auditLedger([...w.entries, ...padded])).toMatchObject({ ok: false, seq: 4, problem: expect.stringMatching(/earns 300 \(train_seconds 1190, budget 300, job time 1250\)/) });
  });

  it('finds a grant citing a baseline that is not in the ledger', () => {
    const entries = ledgerWith();
    const g = entries[4] as LedgerEntry<'credit_granted'>;
    const forged = appendEntries(entries.slice(0, 4), [
      { type: 'credit_granted', data: { ...g.data, class_weight: 4, amount: 1200, weight_basis: g.data.weight_basis.replace('41000', '80000') } },
    ]);
    expect(auditLedger([...entries.slice(0, 4), ...forged])).toMatchObject({ ok: false, seq: 4, problem: expect.stringMatching(/cites a baseline of gpu-rtx-4090 at seq 1 with 80000/) });
  });

  it('finds a double grant, a grant to the wrong login, a grant for a rejected result', () => {
    expect(auditLedger(ledgerWith(GRANT, GRANT))).toMatchObject({ ok: false, seq: 5, problem: expect.stringMatching(/already granted credit at seq 4/) });
    const w = new Writer();
    w.add(baseline('gpu-a10g', 20_000), recorded('j1', 'gpu-bob'), recorded('j2', 'gpu-eve', { validated: false }));
    const g = creditForResult(w.entries, 'j1')!;
    expect(auditLedger([...w.entries, ...appendEntries(w.entries, [{ ...g, data: { ...g.data, login: 'mallory' } }])])).toMatchObject({
      ok: false,
      seq: 3,
      problem: 'credit_granted to mallory but job j1 ran on a runner of gpu-bob',
    });
    expect(auditLedger([...w.entries, ...appendEntries(w.entries, [{ ...g, data: { ...g.data, job_id: 'j2', login: 'gpu-eve' } }])])).toMatchObject({
      ok: false,
      seq: 3,
      problem: expect.stringMatching(/the result of job j2 was rejected/),
    });
  });

  it('finds spending beyond the balance, spending for another author, and free runs beyond the policy', () => {
    expect(auditLedger(ledgerWith(GRANT, dispatched('j2', 'agent-alice'), spent('agent-alice', 300, 'j2')))).toMatchObject({
      ok: false,
      seq: 6,
      problem: 'credit_spent of 300 by agent-alice takes the balance to -300.000, below the allowed 0',
    });
    expect(auditLedger(ledgerWith(GRANT, dispatched('j2', 'agent-alice'), spent('agent-alice', 300, 'j2')), { maxOverdraft: 300 }).ok).toBe(true);
    expect(auditLedger(ledgerWith(GRANT, spent('gpu-bob', 10, 'j1')))).toMatchObject({ ok: false, seq: 5, problem: expect.stringMatching(/that job's author is agent-alice/) });
    const free = (job: string) => spent('agent-alice', 0, job, FREE_TIER_REASON);
    const threeFree = ledgerWith(GRANT, dispatched('j2', 'agent-alice'), dispatched('j3', 'agent-alice'), free('j1'), free('j2'), free('j3'));
    expect(auditLedger(threeFree, { freeRunsPerDay: 2 })).toMatchObject({ ok: false, seq: 9, problem: expect.stringMatching(/free run 3 on .* allows 2 per day/) });
  });

  it('finds a reversal that does not match its grant', () => {
    const rev = (amount: number, login = 'gpu-bob'): NewEntry => ({ type: 'credit_reversed', data: { login, amount, job_id: 'j1', reason: 'forgery' } });
    expect(auditLedger(ledgerWith(GRANT, rev(615))).ok).toBe(true);
    expect(auditLedger(ledgerWith(GRANT, rev(10)))).toMatchObject({ ok: false, seq: 5, problem: 'credit_reversed of 10 but job j1 was granted 615 (seq 4)' });
    expect(auditLedger(ledgerWith(GRANT, rev(615), rev(615)))).toMatchObject({ ok: false, seq: 6, problem: expect.stringMatching(/already reversed at seq 5/) });
  });
});

describe('free tier', () => {
  it('counts free runs per login on the UTC day of now', () => {
    const w = new Writer();
    w.add(dispatched('j1', 'agent-alice'), dispatched('j2', 'agent-alice'));
    w.add({ ...spent('agent-alice', 0, 'j1', FREE_TIER_REASON), time: '2026-03-02T23:59:00.000Z' });
    w.add({ ...spent('agent-alice', 0, 'j2', FREE_TIER_REASON), time: '2026-03-03T00:01:00.000Z' });
    expect(freeRunsLeft(w.entries, 'agent-alice', 3, new Date('2026-03-03T12:00:00Z'))).toBe(2);
    expect(freeRunsLeft(w.entries, 'agent-zed', 3, new Date('2026-03-03T12:00:00Z'))).toBe(3);
    expect(freeRunsLeft(w.entries, 'agent-alice', 1, new Date('2026-03-03T12:00:00Z'))).toBe(0);
  });
});

it('a chain built by appendEntries starts from the zero hash and hashes what it stores', () => {
  const [e] = appendEntries([], [{ ...baseline('gpu-a10g', 1), time: at(0) }]);
  expect(e.prev).toBe(ZERO_HASH);
  expect(hashEntry(e)).toBe(e.hash);
  expect(verifyChain([e]).ok).toBe(true);
});
