// Red team: the agreement tolerance an entry records. The App judges two runs of one job to agree
// within max(the policy's tolerance, agree_sigmas x sqrt(2) x the class's sigma), the sigma pooled
// over the class's baselines (app/policy/outcome.ts agreeTolerance, app/baselines.ts classSigmaOf).
// `npm run ledger -- verify` bounded a recorded tolerance only from below (the floor): an entry
// written by someone with write access to the ledger branch, recording an agreeing verification
// with a tolerance of 1 bpb, made two runs 0.9 apart "agree", confirmed the claim, and minted its
// credit, and the audit passed it. Now, once the ledger's trust_policy records agree_sigmas, the
// audit recomputes the App's tolerance from the ledger (ledger/audit.ts appTolerance) and flags a
// verification or owner_faulted whose tolerance exceeds it.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, auditLedger, creditForResult, DEFAULT_TRUST_POLICY, LedgerState, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { agreeTolerance } from '../../app/policy/outcome.js';
import { pooledSigma } from '../../app/policy/decide.js';
import { appTolerance } from '../../ledger/audit.js';
import { baseline, dispatched, recorded, sha40 } from './fixtures.js';

const AGREE_SIGMAS = 3.5;
const policy: NewEntry<'trust_policy'> = { type: 'trust_policy', data: { ...DEFAULT_TRUST_POLICY, agree_sigmas: AGREE_SIGMAS } };
const build = (news: NewEntry[]): LedgerEntry[] => appendEntries([], news.map((n) => ({ time: '2026-03-02T10:00:00.000Z', ...n })));
const run = (id: string, owner: string, val_bpb: number, role: 'verify' | 'baseline' = 'verify', sha = sha40(7)): NewEntry[] => [
  dispatched(id, null, { role }),
  { ...recorded(id, owner, { val_bpb }), data: { ...recorded(id, owner, { val_bpb }).data, role, sha, pr: role === 'baseline' ? null : 7 } },
];
// a class baseline of 8 runs by two owners, sigma 0.01 (df 7): the App's tolerance is
// max(0.02, widen(3.5, 7) x sqrt(2) x 0.01) ~ 0.077
const BASE = [2.19, 2.2, 2.21, 2.2, 2.19, 2.21, 2.2, 2.2];
const baseRuns = BASE.flatMap((v, i) => run(`b${i}`, i % 2 ? 'olga' : 'pete', v, 'baseline', sha40(1)));
const base8: NewEntry<'baseline_recorded'> = { ...baseline('gpu-a10g', 20_000), data: { ...baseline('gpu-a10g', 20_000).data, mean: 2.2, sigma: sd(BASE), n: 8, job_ids: BASE.map((_, i) => `b${i}`) } };
function sd(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
/** what the App records: agreeTolerance over the class's pooled sigma */
const APP_TOL = agreeTolerance({ tolerance: DEFAULT_TRUST_POLICY.tolerance, agree_sigmas: AGREE_SIGMAS }, pooledSigma([base8.data], 'gpu-a10g'));
/** bob's claim j1 at 2.1, unconfirmed */
const head: NewEntry[] = [...baseRuns, base8, policy, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 })];
const verification = (verify: string, verify_bpb: number, tolerance: number): NewEntry<'verification'> => ({ type: 'verification', data: { job_id: 'j1', verify_job_id: verify, agreed: true, claim_bpb: 2.1, verify_bpb, tolerance } });

/** the ledger with the entries, the grant they allow for j1, and what the audit says */
function mint(extra: NewEntry[]): string {
  const entries = build([...head, ...extra]);
  const grant = creditForResult(entries, 'j1');
  if (!grant) return 'no grant';
  const a = auditLedger([...entries, ...appendEntries(entries, [{ ...grant, time: '2026-03-02T10:00:00.000Z' }])]);
  return a.ok ? 'minted' : `seq ${a.seq}: ${a.problem}`;
}

describe('a forged agreement tolerance', () => {
  it('the App’s own tolerance (its rule over the ledger’s class sigma) still verifies', () => {
    expect(APP_TOL).toBeGreaterThan(0.05);
    expect(APP_TOL).toBeLessThan(0.1);
    expect(mint([...run('v1', 'carol', 2.1 + APP_TOL * 0.99), verification('v1', 2.1 + APP_TOL * 0.99, APP_TOL)])).toBe('minted');
  });

  it('a verification claiming agreement within 1 bpb between runs 0.9 apart is refused', () => {
    expect(mint([...run('v1', 'carol', 3.0), verification('v1', 3.0, 1.0)])).toMatch(/seq \d+: verification of job j1 judged with tolerance 1, above the \d\.\d+ the App's rule gives/);
  });

  it('an owner_faulted whose huge tolerance groups runs that disagree is refused', () => {
    // carol 2.1, dave 2.6, erin 3.1: no two within the App's 0.077, but all "agree" with dave's
    // within 0.5, and bob's 4.0 agrees with none: a fault that the App would never record
    const runs = [...run('v1', 'carol', 2.1), ...run('v2', 'dave', 2.6), ...run('v3', 'erin', 3.1), ...run('v4', 'bob2', 4.0)];
    const fault: NewEntry<'owner_faulted'> = { type: 'owner_faulted', data: { login: 'bob2', job_id: 'v4', claim_job_id: 'j1', agreed_job_ids: ['v1', 'v2', 'v3'], reason: 'outvoted', tolerance: 0.5 } };
    const a = auditLedger(build([...head, ...runs, fault]));
    expect(a.ok ? 'ok' : a.problem).toMatch(/owner_faulted of bob2 judged with tolerance 0.5, above the \d\.\d+ the App's rule gives/);
    // at the App's tolerance, the cited runs do not agree with each other
    const honest = auditLedger(build([...head, ...runs, { ...fault, data: { ...fault.data, tolerance: APP_TOL } }]));
    expect(honest.ok ? 'ok' : honest.problem).toMatch(/the cited runs do not agree with each other/);
  });

  it('the audit’s recomputation is the App’s rule: a class with no spread judges at the floor only', () => {
    const flat: NewEntry<'baseline_recorded'> = { ...baseline('gpu-a10g', 20_000), data: { ...baseline('gpu-a10g', 20_000).data, sigma: 0, n: 1, job_ids: [] } };
    const entries = build([flat, policy, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 }), ...run('v1', 'carol', 2.15), verification('v1', 2.15, 0.05)]);
    const a = auditLedger(entries);
    expect(a.ok ? 'ok' : a.problem).toMatch(/verification of job j1 judged with tolerance 0.05, above the 0.02 the App's rule gives/);
    // the same at the floor: the runs differ by more than it
    const b = auditLedger(build([flat, policy, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 }), ...run('v1', 'carol', 2.11), verification('v1', 2.11, 0.02)]));
    expect(b.ok).toBe(true);
  });

  it('a ledger whose trust_policy predates agree_sigmas is checked as before (floor only)', () => {
    const old: NewEntry<'trust_policy'> = { type: 'trust_policy', data: DEFAULT_TRUST_POLICY };
    const entries = build([...baseRuns, base8, old, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 }), ...run('v1', 'carol', 2.3), verification('v1', 2.3, 0.3)]);
    expect(auditLedger(entries).ok).toBe(true);
    expect(LedgerState.of(entries).trust.policy?.agree_sigmas).toBeUndefined();
  });
});

describe('the bound follows the ledger as the App saw it', () => {
  // a claim recorded before its class had a baseline (wait_baseline), judged once one is; its verify
  // run dispatched, then its result and verification decided on a view before a second, tighter
  // baseline and landing after it (app/record.ts appends them on the chain that grew meanwhile): the
  // App's wider tolerance of that view still verifies
  it('uses the widest tolerance the App could have judged with since the verify run was dispatched', () => {
    const tight = [2.2, 2.2001, 2.1999, 2.2, 2.2001, 2.1999, 2.2, 2.2, 2.2001, 2.1999, 2.2, 2.2, 2.2001, 2.1999, 2.2, 2.2, 2.2001, 2.1999, 2.2, 2.2];
    const tightRuns = tight.flatMap((v, i) => run(`t${i}`, i % 2 ? 'olga' : 'pete', v, 'baseline', sha40(2)));
    const base2: NewEntry<'baseline_recorded'> = { ...baseline('gpu-a10g', 20_000, sha40(2)), data: { ...baseline('gpu-a10g', 20_000, sha40(2)).data, sigma: sd(tight), n: tight.length, job_ids: tight.map((_, i) => `t${i}`) } };
    const after = agreeTolerance({ tolerance: DEFAULT_TRUST_POLICY.tolerance, agree_sigmas: AGREE_SIGMAS }, pooledSigma([base8.data, base2.data], 'gpu-a10g'));
    expect(after).toBeLessThan(APP_TOL * 0.8);
    const claimFirst: NewEntry[] = [policy, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 }), ...baseRuns, base8];
    const v = 2.1 + APP_TOL * 0.99;
    const [vDispatch, vResult] = run('v1', 'carol', v);
    const landed = build([...claimFirst, vDispatch, ...tightRuns, base2, vResult, verification('v1', v, APP_TOL)]);
    const a = auditLedger(landed);
    expect(a.ok ? 'ok' : a.problem).toBe('ok');
    // wider than any tolerance the App had since: refused
    const wider = build([...claimFirst, vDispatch, ...tightRuns, base2, vResult, verification('v1', v, APP_TOL * 1.01)]);
    // a verify run dispatched after the tighter baseline was judged on a view that had it: its tolerance
    const late = build([...claimFirst, ...tightRuns, base2, vDispatch, vResult, verification('v1', v, APP_TOL)]);
    const c = auditLedger(late);
    expect(c.ok ? 'ok' : c.problem).toMatch(/judged with tolerance [\d.]+, above the [\d.]+ the App's rule gives/);
    const b = auditLedger(wider);
    expect(b.ok ? 'ok' : b.problem).toMatch(/judged with tolerance [\d.]+, above the [\d.]+ the App's rule gives/);
  });
});

describe('appTolerance is the App’s rule', () => {
  it('equals agreeTolerance over the pooled sigma, and leaves a banned owner’s baseline runs out as classSigmaOf does', () => {
    const s = LedgerState.of(build(head));
    expect(appTolerance(s, 'gpu-a10g')).toBeCloseTo(APP_TOL, 12);
    for (const k of [0, 1, 2.5, 3.5, 6]) {
      const p: NewEntry<'trust_policy'> = { type: 'trust_policy', data: { ...DEFAULT_TRUST_POLICY, agree_sigmas: k } };
      expect(appTolerance(LedgerState.of(build([...baseRuns, base8, p])), 'gpu-a10g')).toBeCloseTo(agreeTolerance({ tolerance: 0.02, agree_sigmas: k }, pooledSigma([base8.data], 'gpu-a10g')), 12);
    }
    // pete banned: his four runs leave the baseline's group (as app/baselines.ts countedGroup does)
    const banned = LedgerState.of(build([...head, { type: 'owner_banned', data: { login: 'pete', reason: 'test' } }]));
    const olga = BASE.filter((_, i) => i % 2);
    expect(appTolerance(banned, 'gpu-a10g')).toBeCloseTo(agreeTolerance({ tolerance: 0.02, agree_sigmas: AGREE_SIGMAS }, pooledSigma([{ hardware_class: 'gpu-a10g', values: olga }], 'gpu-a10g')), 12);
    expect(appTolerance(LedgerState.of(build(head)), 'gpu-h100')).toBe(0.02);
  });
});
