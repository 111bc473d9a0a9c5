// The audit of owner_faulted entries (ledger/audit.ts) against the App's own grouping of runs
// (app/policy/replication.ts judgeReplicas, via ledger/agreement.ts): a fault the App records
// must verify, and a fault citing runs the App would never group must not.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, auditLedger, DEFAULT_TRUST_POLICY, LedgerState, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { largestAgreeingGroup } from '../../ledger/agreement.js';
import { faultEntries, judgeReplicas, type Run } from '../../app/policy/replication.js';
import { baseline, dispatched, recorded } from './fixtures.js';

const TOL = DEFAULT_TRUST_POLICY.tolerance; // 0.02
const build = (news: NewEntry[]): LedgerEntry[] => appendEntries([], news.map((n) => ({ time: '2026-03-02T10:00:00.000Z', ...n })));
const audit = (entries: LedgerEntry[]) => {
  const a = auditLedger(entries);
  return a.ok ? 'ok' : `seq ${a.seq}: ${a.problem}`;
};
const verifyRun = (job: string, owner: string, bpb: number): NewEntry[] => [
  dispatched(job, null, { role: 'verify' }),
  { ...recorded(job, owner, { val_bpb: bpb }), data: { ...recorded(job, owner, { val_bpb: bpb }).data, role: 'verify' as const } },
];
const fault = (login: string, job_id: string, agreed_job_ids: string[], tolerance?: number): NewEntry<'owner_faulted'> => ({
  type: 'owner_faulted',
  data: { login, job_id, claim_job_id: 'j1', agreed_job_ids, reason: 'outvoted', ...(tolerance !== undefined ? { tolerance } : {}) },
});

// bob's claim at 2.1; carol, dave and erin re-run it at 1.885, 1.900, 1.915: each within 0.02 of
// dave's, but carol's and erin's 0.03 apart, so erin's is not within 0.02 of the first cited run.
const claim: Run = { job_id: 'j1', owner: 'bob', val_bpb: 2.1 };
const replicas: Run[] = [
  { job_id: 'v1', owner: 'carol', val_bpb: 1.885 },
  { job_id: 'v2', owner: 'dave', val_bpb: 1.9 },
  { job_id: 'v3', owner: 'erin', val_bpb: 1.915 },
];
const ledger = (runs: Run[]): NewEntry[] => [
  baseline('gpu-a10g', 20_000),
  { type: 'trust_policy', data: DEFAULT_TRUST_POLICY },
  dispatched('j1', 'agent-alice'),
  recorded('j1', 'bob', { val_bpb: 2.1 }),
  ...runs.flatMap((r) => verifyRun(r.job_id, r.owner, r.val_bpb!)),
];

describe('owner_faulted: the audit checks the group the App formed', () => {
  it('a fault the App records on a group whose members are up to twice the tolerance apart verifies (it did not before)', () => {
    const v = judgeReplicas(claim, replicas, { scale: null, margin: { k: 3.5, min_delta: 0 }, seq: { screen: 2, futility: 0, max_runs: 5 }, quorum: 1, tolerance: TOL, author: 'agent-alice' });
    expect(v.kind).toBe('discard');
    if (v.kind !== 'discard') return;
    expect(v.group.map((g) => g.job_id)).toEqual(['v1', 'v2', 'v3']);
    expect(v.wrong.map((w) => w.job_id)).toEqual(['j1']);
    const before = build(ledger(replicas));
    const news = faultEntries(LedgerState.of(before), DEFAULT_TRUST_POLICY, 'j1', v.wrong, v.group, 'outvoted on job j1', TOL);
    expect(news[0]).toMatchObject({ type: 'owner_faulted', data: { login: 'bob', agreed_job_ids: ['v1', 'v2', 'v3'], tolerance: TOL } });
    // the audit compared every cited run with the first (v1) and refused v3, 0.03 from it
    expect(audit([...before, ...appendEntries(before, news)])).toBe('ok');
  });

  it('a fault citing runs the App would never group is refused: a chain with no run agreeing with all', () => {
    // 1.88, 1.90, 1.92, 1.94: neighbours agree, but no run is within 0.02 of all four
    const chain: Run[] = [1.88, 1.9, 1.92, 1.94].map((b, i) => ({ job_id: `c${i}`, owner: `o${i}`, val_bpb: b }));
    expect(largestAgreeingGroup(chain, (r) => r.val_bpb, TOL)).toHaveLength(3);
    const forged = build([...ledger(chain), fault('bob', 'j1', chain.map((r) => r.job_id))]);
    expect(audit(forged)).toMatch(/seq \d+: owner_faulted of bob: the cited runs do not agree with each other \(no cited run agrees with all the others within 0.02\)/);
    // three runs 0.06 apart end to end, under a recorded tolerance that cannot go below the policy's floor
    const three = build([...ledger(chain), fault('bob', 'j1', ['c0', 'c1', 'c3'], TOL)]);
    expect(audit(three)).toMatch(/the cited runs do not agree with each other/);
    expect(audit(build([...ledger(chain), fault('bob', 'j1', ['c0', 'c1', 'c2'], 0.01)]))).toMatch(/judged with tolerance 0.01, below the policy's 0.02/);
  });

  it('two agreeing owners do not outvote a third under the default policy (outvote_quorum 3); under 2 (older ledgers) they do', () => {
    const runs: Run[] = [{ job_id: 'v1', owner: 'carol', val_bpb: 1.9 }, { job_id: 'v2', owner: 'dave', val_bpb: 1.905 }];
    expect(audit(build([...ledger(runs), fault('bob', 'j1', ['v1', 'v2'], TOL)]))).toMatch(/owner_faulted of bob must cite validated runs of at least 3 other owners \(the policy's outvote_quorum\)/);
    const old = ledger(runs).map((n) => (n.type === 'trust_policy' ? { ...n, data: { ...DEFAULT_TRUST_POLICY, outvote_quorum: undefined } } : n));
    expect(audit(build([...old, fault('bob', 'j1', ['v1', 'v2'], TOL)]))).toBe('ok');
    // the App asks for a third owner's run instead of faulting on two
    const v = judgeReplicas(claim, runs, { scale: null, margin: { k: 3.5, min_delta: 0 }, seq: { screen: 2, futility: 0, max_runs: 5 }, quorum: 1, tolerance: TOL, author: 'agent-alice', outvote: 3 });
    expect(v).toMatchObject({ kind: 'more', reason: expect.stringMatching(/bob \(2.1000\) disagrees with carol \(1.9000\), dave \(1.9050\): 3 owners must agree before a run is outvoted/) });
    expect(judgeReplicas(claim, runs, { scale: null, margin: { k: 3.5, min_delta: 0 }, seq: { screen: 2, futility: 0, max_runs: 5 }, quorum: 1, tolerance: TOL, author: 'agent-alice', outvote: 2 }).kind).toBe('discard');
  });

  it('a fault against a run that agrees with any cited run is refused, not only one agreeing with the first', () => {
    // frank's 1.93 is within 0.02 of erin's 1.915 (so the App would never outvote it), not of carol's 1.885
    const runs = [...replicas, { job_id: 'v4', owner: 'frank', val_bpb: 1.93 }];
    const framed = build([...ledger(runs), fault('frank', 'v4', ['v1', 'v2', 'v3'])]);
    expect(audit(framed)).toMatch(/owner_faulted of frank: job v4 agrees with the cited job v3/);
    // cited centre first: the old audit compared frank's run with dave's 1.900 alone, 0.03 away, and recorded the frame
    const centreFirst = build([...ledger(runs), fault('frank', 'v4', ['v2', 'v1', 'v3'])]);
    expect(audit(centreFirst)).toMatch(/owner_faulted of frank: job v4 agrees with the cited job v3/);
    // and bob's claim, which agrees with none, is a fault on the same citation
    expect(audit(build([...ledger(runs), fault('bob', 'j1', ['v1', 'v2', 'v3'])]))).toBe('ok');
  });
});

describe('a ban forfeits what no bit-exact replay proved', () => {
  const grant = (job_id: string, login: string): NewEntry => ({ type: 'credit_granted', data: { login, amount: 300, job_id, train_seconds: 300, hardware_class: 'gpu-a10g', class_weight: 1, weight_basis: 'x' } });
  const judged = (job_id: string, replay: string, by: 'digest' | 'val_bpb'): NewEntry => ({
    type: 'replay_judged',
    data: { job_id, replay_job_ids: [replay], digests: by === 'digest' ? ['f'.repeat(64), 'f'.repeat(64)] : [null, null], by, tolerance: 0.02, verdict: 'agreed', outvoted: [], reason: 'replayed' },
  });
  // bob earned on g1 (a replay agreed by score) and g2 (a replay reproduced the checkpoint)
  const before = build([
    baseline('gpu-a10g', 20_000),
    { type: 'trust_policy', data: DEFAULT_TRUST_POLICY },
    ...['g1', 'r1', 'g2', 'r2'].flatMap((j, i) => [dispatched(j, 'agent-alice'), recorded(j, i % 2 ? 'carol' : 'bob', { val_bpb: 2.1 })]),
    judged('g1', 'r1', 'val_bpb'),
    judged('g2', 'r2', 'digest'),
    grant('g1', 'bob'),
    grant('g2', 'bob'),
    grant('r1', 'carol'),
  ]);

  it('the ban reverses the score-agreed credit and keeps the digest-proven one; the other owner keeps hers', () => {
    const s = LedgerState.of(before);
    expect([...s.trust.proven].sort()).toEqual(['g2', 'r2']);
    const news = faultEntries(s, { ...DEFAULT_TRUST_POLICY, ban_after_faults: 1 }, 'j9', [{ job_id: 'x9', owner: 'bob', val_bpb: 2.5 }], [], 'outvoted');
    expect(news.filter((n) => n.type === 'credit_reversed').map((n) => [(n.data as { job_id: string }).job_id, (n.data as { amount: number }).amount])).toEqual([['g1', 300]]);
    expect(news.map((n) => n.type)).toContain('owner_banned');
    // without ban_forfeits (an older policy): the ban alone, g1 was confirmed by another owner
    const old = faultEntries(s, { ...DEFAULT_TRUST_POLICY, ban_after_faults: 1, ban_forfeits: undefined }, 'j9', [{ job_id: 'x9', owner: 'bob', val_bpb: 2.5 }], [], 'outvoted');
    expect(old.filter((n) => n.type === 'credit_reversed')).toEqual([]);
  });
});
