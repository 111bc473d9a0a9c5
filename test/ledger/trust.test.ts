// The ledger's trust replay (ledger/trust.ts, audit.ts): under a recorded trust_policy, every
// grant, merge, baseline and fault is checked against the policy, from the ledger alone.
import { describe, it, expect, jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../ledger/cli.js';
import { appendEntries, auditLedger, writeLedgerDir, creditForResult, DEFAULT_TRUST_POLICY, LedgerState, spotDraw, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { baseline, dispatched, recorded, sha40 } from './fixtures.js';

const policy = (o: Partial<typeof DEFAULT_TRUST_POLICY> = {}): NewEntry<'trust_policy'> => ({ type: 'trust_policy', data: { ...DEFAULT_TRUST_POLICY, ...o } });
const agreed = (claim: string, verify: string): NewEntry<'verification'> => ({ type: 'verification', data: { job_id: claim, verify_job_id: verify, agreed: true, claim_bpb: 2.1, verify_bpb: 2.1, tolerance: 0.02 } });
const build = (news: NewEntry[]): LedgerEntry[] => appendEntries([], news.map((n) => ({ time: '2026-03-02T10:00:00.000Z', ...n })));
const grantOf = (entries: LedgerEntry[], job: string) => creditForResult(entries, job);
const audit = (entries: LedgerEntry[]) => {
  const a = auditLedger(entries);
  return a.ok ? 'ok' : `seq ${a.seq}: ${a.problem}`;
};
const base = [baseline('gpu-a10g', 20_000), dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 })];
/** `a`'s claim c<i>, and `b`'s verify run v<i> that agreed with it */
const pair = (i: number, a: string, b: string): NewEntry[] => [
  dispatched(`c${i}`, 'agent-x'),
  recorded(`c${i}`, a, { val_bpb: 2.1 }),
  dispatched(`v${i}`, null, { role: 'verify' }),
  { ...recorded(`v${i}`, b, { val_bpb: 2.1 }), data: { ...recorded(`v${i}`, b).data, role: 'verify' as const } },
  agreed(`c${i}`, `v${i}`),
];

describe('grants under the trust policy', () => {
  it('a result no other owner confirmed does not earn; once one agrees, both earn', () => {
    const entries = build([...base, policy()]);
    expect(grantOf(entries, 'j1')).toBeNull();
    expect(LedgerState.of(entries).balances().get('bob')).toMatchObject({ earned: 0, pending: 300 }); // pending until confirmed
    // a grant written anyway is flagged by the audit
    const sneaky = build([...base, policy(), { type: 'credit_granted', data: { login: 'bob', amount: 300, job_id: 'j1', train_seconds: 300, hardware_class: 'gpu-a10g', class_weight: 1, weight_basis: 'tokens/s 20000 on gpu-a10g (baseline seq 0) / 20000 on reference gpu-a10g (baseline seq 0)' } }]);
    expect(audit(sneaky)).toMatch(/seq 4: credit_granted to bob: the result of job j1 is not confirmed by another owner's run yet/);
    const confirmed = build([...base, policy(), dispatched('v1', null, { role: 'verify' }), { ...recorded('v1', 'carol', { val_bpb: 2.105 }), data: { ...recorded('v1', 'carol').data, role: 'verify' } }, agreed('j1', 'v1')]);
    expect(grantOf(confirmed, 'j1')?.data.login).toBe('bob');
    expect(grantOf(confirmed, 'v1')?.data.login).toBe('carol');
    const s = LedgerState.of(confirmed);
    expect(s.trust.owner('bob').agreed).toBe(1);
  });

  it('a ledger without a trust_policy predates replication: grants are checked as before', () => {
    expect(grantOf(build(base), 'j1')?.data.login).toBe('bob');
  });

  it('a trusted owner\'s candidate earns unless the spot-check draw picked it', () => {
    const entries = build([...base, policy({ replicate_until: 0, spot_check_rate: 0 })]);
    expect(grantOf(entries, 'j1')?.data.login).toBe('bob');
    expect(grantOf(build([...base, policy({ replicate_until: 0, spot_check_rate: 1 })]), 'j1')).toBeNull();
  });

  it('a class weight is capped at max_class_weight, and a grant at the uncapped weight is flagged', () => {
    // a baseline of an invented class claiming 10^12 tokens/s (the reference does 20000), from before the policy
    const fake = [{ ...baseline('gpu-fake', 1e12), data: { ...baseline('gpu-fake', 1e12).data, job_ids: [] } }];
    const entries = build([baseline('gpu-a10g', 20_000), ...fake, policy({ replicate_until: 0, spot_check_rate: 0 }), dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { hardware_class: 'gpu-fake' })]);
    const g = grantOf(entries, 'j1')!;
    expect(g.data).toMatchObject({ class_weight: 100, amount: 30_000 });
    const minted = appendEntries(entries, [{ type: 'credit_granted', data: { ...g.data, class_weight: 5e7, amount: 1.5e10 } }]);
    expect(audit([...entries, ...minted])).toMatch(/class_weight is 50000000 but 1000000000000 \/ 20000 = 100 \(capped by max_class_weight\)/);
  });

  it('a pair of accounts confirming each other never becomes trusted: trust needs three distinct partners', () => {
    const sock = build([policy(), ...Array.from({ length: 12 }, (_, i) => pair(i, 'sock-a', 'sock-b')).flat()]);
    const s = LedgerState.of(sock);
    expect(s.trust.owner('sock-a').agreed).toBe(12);
    expect(s.trust.trusted('sock-a')).toBe(false);
    const partners = ['carol', 'dave', 'erin'];
    const honest = LedgerState.of(build([policy(), ...Array.from({ length: 12 }, (_, i) => pair(i, 'bob', partners[i % 3])).flat()]));
    expect(honest.trust.trusted('bob')).toBe(true);
  });

  it('the spot-check rate falls as 1/agreed past probation (BOINC), frozen for each result when it is recorded', () => {
    const partners = ['carol', 'dave', 'erin'];
    const T = '2026-03-02T10:00:00.000Z';
    // a job whose draw the fixed rate (0.5) picks and bob's rate at 8 agreeing results (0.5 x 2 / 8) does not
    const between = Array.from({ length: 200 }, (_, i) => `x${i}`).find((j) => spotDraw(T, j) > 0.125 && spotDraw(T, j) < 0.5)!;
    const history = (p: Partial<typeof DEFAULT_TRUST_POLICY>, after: number) =>
      build([baseline('gpu-a10g', 20_000), policy({ replicate_until: 2, spot_check_rate: 0.5, spot_check_decay: true, ...p }), ...Array.from({ length: 8 }, (_, i) => pair(i, 'bob', partners[i % 3])).flat(), dispatched(between, 'agent-x'), recorded(between, 'bob', { val_bpb: 2.1, time: T }), ...Array.from({ length: after }, (_, i) => pair(100 + i, 'bob', partners[i % 3])).flat()]);
    const decayed = history({}, 0);
    expect(LedgerState.of(decayed).trust.spotRate('bob')).toBeCloseTo(0.125, 12);
    expect(grantOf(decayed, between)?.data.login).toBe('bob');
    // the fixed rate of older ledgers (no spot_check_decay) draws it: it earns only once another owner agrees
    expect(grantOf(history({ spot_check_decay: undefined }, 0), between)).toBeNull();
    // frozen: a draw between bob's rate at 32 agreeing results (0.03125) and 0.125 recorded at 8 stays drawn at 32
    const early = Array.from({ length: 400 }, (_, i) => `y${i}`).find((j) => spotDraw(T, j) > 0.04 && spotDraw(T, j) < 0.125)!;
    const frozen = build([baseline('gpu-a10g', 20_000), policy({ replicate_until: 2, spot_check_rate: 0.5, spot_check_decay: true }), ...Array.from({ length: 8 }, (_, i) => pair(i, 'bob', partners[i % 3])).flat(), dispatched(early, 'agent-x'), recorded(early, 'bob', { val_bpb: 2.1, time: T }), ...Array.from({ length: 24 }, (_, i) => pair(100 + i, 'bob', partners[i % 3])).flat()]);
    const s = LedgerState.of(frozen);
    expect(s.trust.spotRate('bob')).toBeCloseTo(0.5 * 2 / 32, 12);
    expect(grantOf(frozen, early)).toBeNull();
    // and a grant for it anyway is flagged
    const sneaky = appendEntries(frozen, [{ type: 'credit_granted', data: { login: 'bob', amount: 300, job_id: early, train_seconds: 300, hardware_class: 'gpu-a10g', class_weight: 1, weight_basis: 'x' } }]);
    expect(audit([...frozen, ...sneaky])).toMatch(new RegExp(`credit_granted to bob: the result of job ${early} is not confirmed by another owner's run yet`));
  });

  it('the spot-check draw is uniform and reproducible', () => {
    const draws = Array.from({ length: 4000 }, (_, i) => spotDraw(new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString(), `job-${i}`));
    const share = draws.filter((d) => d < 0.1).length / draws.length;
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    expect(spotDraw('2026-01-01T00:00:00.000Z', 'j')).toBe(spotDraw('2026-01-01T00:00:00.000Z', 'j'));
  });
});

describe('faults, merges and baselines under the policy', () => {
  const verifyRun = (job: string, owner: string, bpb: number) => [dispatched(job, null, { role: 'verify' }), { ...recorded(job, owner, { val_bpb: bpb }), data: { ...recorded(job, owner, { val_bpb: bpb }).data, role: 'verify' as const } }];

  it('a fault must cite outvote_quorum (3) other owners\' agreeing runs that disagree with the faulted one', () => {
    const runs = [...base, policy(), ...verifyRun('v1', 'carol', 1.9), ...verifyRun('v2', 'dave', 1.905), ...verifyRun('v3', 'erin', 1.895)];
    const ok = build([...runs, { type: 'owner_faulted', data: { login: 'bob', job_id: 'j1', claim_job_id: 'j1', agreed_job_ids: ['v1', 'v2', 'v3'], reason: 'outvoted' } }]);
    expect(audit(ok)).toBe('ok');
    const s = LedgerState.of(ok);
    expect(s.trust.owner('bob')).toMatchObject({ faults: 1, agreed: 0 });
    expect(s.ungrantable('j1')).toMatch(/outvoted/);
    expect(s.balances().get('bob')).toMatchObject({ pending: 0 });
    expect(s.ungrantable('v1')).toBeNull();
    const framed = build([...runs, { type: 'owner_faulted', data: { login: 'carol', job_id: 'v1', claim_job_id: 'j1', agreed_job_ids: ['j1', 'v2', 'v3'], reason: 'outvoted' } }]);
    expect(audit(framed)).toMatch(/the cited runs do not agree with each other/);
  });

  it('a merge resting on fewer than quorum + 1 owners other than the author is flagged', () => {
    const merged = (job_ids: string[]): NewEntry => ({ type: 'experiment_merged', data: { pr: 7, sha: sha40(7), merge_sha: sha40(9), hardware_class: 'gpu-a10g', val_bpb: 2.1, baseline_mean: 2.2, job_ids } });
    const runs = [...base, policy(), ...verifyRun('v1', 'carol', 2.1), agreed('j1', 'v1')];
    expect(audit(build([...runs, merged(['j1', 'v1'])]))).toBe('ok');
    expect(audit(build([...runs, merged(['j1'])]))).toMatch(/rests on 1 independent owner\(s\) \(bob\), but the policy needs 2/);
    // the same runs when bob is the PR's author: only carol counts
    const byBob = [...base.slice(0, 2), recorded('j1', 'bob', { val_bpb: 2.1, author: 'bob' }), policy(), ...verifyRun('v1', 'carol', 2.1), agreed('j1', 'v1')];
    expect(audit(build([...byBob, merged(['j1', 'v1'])]))).toMatch(/rests on 1 independent owner\(s\) \(carol\)/);
  });

  // Red team (test/app/red-team-merged-score.test.ts): the claim outvoted, the PR merged on the
  // agreeing owners' runs, and the entry recorded the claim's forged score as the merged one.
  it('a merge whose val_bpb is not what its own runs measured, or that counts a run of another class, is flagged', () => {
    const runs = [baseline('gpu-a10g', 20_000), dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 0.5 }), policy(), ...verifyRun('v1', 'carol', 1.9), ...verifyRun('v2', 'dave', 1.905), ...verifyRun('v3', 'erin', 1.895)];
    const faulted: NewEntry = { type: 'owner_faulted', data: { login: 'bob', job_id: 'j1', claim_job_id: 'j1', agreed_job_ids: ['v1', 'v2', 'v3'], reason: 'outvoted' } };
    const merged = (val_bpb: number, hardware_class = 'gpu-a10g'): NewEntry => ({ type: 'experiment_merged', data: { pr: 7, sha: sha40(7), merge_sha: sha40(9), hardware_class, val_bpb, baseline_mean: 2.2, job_ids: ['v1', 'v2', 'v3'] } });
    expect(audit(build([...runs, faulted, merged((1.9 + 1.905 + 1.895) / 3)]))).toBe('ok');
    expect(audit(build([...runs, faulted, merged(0.5)]))).toMatch(/experiment_merged of PR #7 records val_bpb 0\.5, but the runs it rests on \(v1, v2, v3\) measured 1\.9 on average: a merge records what its own runs measured/);
    expect(audit(build([...runs, faulted, merged(1.895)]))).toMatch(/records val_bpb 1\.895, but the runs it rests on/); // one of them, not the claim: their mean
    expect(audit(build([...runs, faulted, merged(1.9, 'gpu-h100')]))).toMatch(/experiment_merged of PR #7 on gpu-h100 counts job v1, a run on gpu-a10g/);
  });

  it('a baseline of one owner, or one citing no runs, is flagged', () => {
    const run = (job: string, owner: string, bpb: number): NewEntry[] => [dispatched(job, null, { role: 'baseline' }), { ...recorded(job, owner, { val_bpb: bpb }), data: { ...recorded(job, owner, { val_bpb: bpb }).data, role: 'baseline' as const, pr: null, sha: sha40(1) } }];
    const b = (job_ids: string[], mean: number): NewEntry => ({ type: 'baseline_recorded', data: { hardware_class: 'gpu-a10g', sha: sha40(1), mean, sigma: 0, n: job_ids.length, tokens_per_second: 20000, job_ids } });
    const runs = [policy(), ...run('b1', 'bob', 2.2), ...run('b2', 'bob', 2.2), ...run('b3', 'carol', 2.21)];
    expect(audit(build([...runs, b(['b1', 'b2', 'b3'], 2.203333333333333)]))).toBe('ok');
    expect(audit(build([...runs, b(['b1', 'b2'], 2.2)]))).toMatch(/rests on 1 owner\(s\), but the policy needs 2/);
    expect(audit(build([...runs, b(['x1', 'x2'], 2.2)]))).toMatch(/cites job x1, which has no validated, scored result/);
    expect(audit(build([...runs, b(['b1', 'b3'], 1.5)]))).toMatch(/says mean 1.5 but its runs average/);
  });
});

describe('npm run ledger -- verify', () => {
  it('recomputes trust from a checkout and names a grant made against the policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-trust-'));
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m) => void out.push(String(m)));
    const err = jest.spyOn(console, 'error').mockImplementation((m) => void out.push(String(m)));
    try {
      // results whose diff is inline (no archived file beside the ledger)
      const honest = build([...base, policy()].map((n) => (n.type === 'result_recorded' ? { ...n, data: { ...n.data, diff_path: null, diff_sha256: null } } : n)) as NewEntry[]);
      writeLedgerDir(dir, honest);
      expect(await main(['verify', dir])).toBe(0);
      expect(out.join('\n')).toMatch(/trust: policy replicate_until 10, spot_check_rate 0.1, quorum 1.*max_class_weight 100, a ban forfeits unproven credits, replay outvote quorum 3; 1 runner owners, 0 trusted, 0 faults, 0 banned/);
      const grant = { type: 'credit_granted' as const, data: { login: 'bob', amount: 300, job_id: 'j1', train_seconds: 300, hardware_class: 'gpu-a10g', class_weight: 1, weight_basis: 'tokens/s 20000 on gpu-a10g (baseline seq 0) / 20000 on reference gpu-a10g (baseline seq 0)' } };
      rmSync(dir, { recursive: true });
      writeLedgerDir(dir, [...honest, ...appendEntries(honest, [grant])]);
      expect(await main(['verify', dir])).toBe(1);
      expect(out.at(-1)).toMatch(/ledger BROKEN at seq 4.*not confirmed by another owner's run yet/);
    } finally {
      log.mockRestore();
      err.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
