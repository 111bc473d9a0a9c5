// The merged claim's runs as samples of the new default branch's baseline (docs/trust.md 2a), as
// `npm run ledger -- verify` checks them from the ledger alone: a baseline may cite the runs that
// the merge which made its commit names, on the merge's class, still eligible (not outvoted, not
// awaiting or refuted by a replay, not the author's), beside at least one run of the commit itself
// that ran the same train.ts, harness and budget. Anything else cited is flagged.
import { describe, it, expect } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEntries, auditLedger, DEFAULT_TRUST_POLICY, writeLedgerDir, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { replayCredits } from '../../ledger/audit.js';
import { CHECKED_RESULT_FIELDS, verifyLedgerDir } from '../../ledger/verify-dir.js';
import { ExperimentResult } from '../../trainer/result.js';
import { baseline, dispatched, recorded, sha40 } from './fixtures.js';

const CLS = 'gpu-a10g';
const MERGED = sha40(9);
const build = (news: NewEntry[]): LedgerEntry[] => appendEntries([], news.map((n) => ({ time: '2026-03-02T10:00:00.000Z', ...n })));
const audit = (news: NewEntry[]) => {
  const a = auditLedger(build(news));
  return a.ok ? 'ok' : `seq ${a.seq}: ${a.problem}`;
};
/** What `npm run ledger -- verify` says of a checkout of the same entries (ledger/verify-dir.ts). */
const verifyDir = async (news: NewEntry[]) => {
  const dir = mkdtempSync(join(tmpdir(), 'reuse-'));
  writeLedgerDir(dir, build(news));
  const v = await verifyLedgerDir(dir, { threads: 1 });
  return v.ok ? 'ok' : `seq ${v.seq}: ${v.problem}`;
};
/** The fields of results that the credit replay (what the checkout's verify runs on slim copies) reads over these entries. */
const fieldsRead = (news: NewEntry[]): Set<string> => {
  const read = new Set<string>();
  const watch = (r: object) => new Proxy(r, { get: (t, k, v) => (typeof k === 'string' && read.add(k), Reflect.get(t, k, v)) });
  const entries = build(news).map((e) => (e.type === 'result_recorded' && (e.data as { result: object | null }).result ? ({ ...e, data: { ...e.data, result: watch((e.data as { result: object }).result) } } as LedgerEntry) : e));
  replayCredits(entries);
  return read;
};
const policy: NewEntry = { type: 'trust_policy', data: { ...DEFAULT_TRUST_POLICY } };

type RunOpts = { role?: 'candidate' | 'verify' | 'baseline'; pr?: number | null; sha?: string; cls?: string; author?: string; result?: Record<string, unknown>; verifies?: string; replay?: string };
/** A dispatched and recorded run of `owner` scoring `bpb`. */
function run(job: string, owner: string, bpb: number, o: RunOpts = {}): NewEntry[] {
  const d = dispatched(job, o.role === 'candidate' || !o.role ? 'agent-alice' : null, { role: o.role ?? 'candidate', pr: o.pr ?? undefined });
  const r = recorded(job, owner, { val_bpb: bpb, hardware_class: o.cls, author: o.author });
  const pr = o.pr === undefined ? 7 : o.pr;
  const sha = o.sha ?? sha40(pr ?? 1);
  return [
    { ...d, data: { ...d.data, pr, sha, hardware_class: o.cls ?? CLS, pr_author: pr === null ? null : (o.author ?? 'agent-alice'), ...(o.verifies ? { verifies: o.verifies } : {}), ...(o.replay ? { replay: o.replay, seed: 1 } : {}) } },
    { ...r, data: { ...r.data, role: o.role ?? 'candidate', pr, sha, result: { ...r.data.result!, ...(o.result ?? {}) } } },
  ];
}
const agreed = (claim: string, verify: string): NewEntry => ({ type: 'verification', data: { job_id: claim, verify_job_id: verify, agreed: true, claim_bpb: 2.1, verify_bpb: 2.1, tolerance: 0.02 } });
const merged = (o: { job_ids?: string[]; baseline_job_ids?: string[] } = {}): NewEntry => ({
  type: 'experiment_merged',
  data: { pr: 7, sha: sha40(7), merge_sha: MERGED, hardware_class: CLS, val_bpb: 2.1, baseline_mean: 2.2, job_ids: o.job_ids ?? ['c1', 'v1', 'v2'], ...(o.baseline_job_ids ? { baseline_job_ids: o.baseline_job_ids } : {}) },
});
const baselineOf = (job_ids: string[], mean: number, cls = CLS): NewEntry => ({ type: 'baseline_recorded', data: { hardware_class: cls, sha: MERGED, mean, sigma: 0.01, n: job_ids.length, tokens_per_second: 20000, job_ids } });

// PR 7 (by agent-alice): bob's claim, confirmed by carol and dave; merged as MERGED
const claim = [
  baseline(CLS, 20_000),
  policy,
  ...run('c1', 'bob', 2.1),
  ...run('v1', 'carol', 2.1, { role: 'verify', verifies: 'c1' }),
  agreed('c1', 'v1'),
  ...run('v2', 'dave', 2.1, { role: 'verify', verifies: 'c1' }),
  agreed('c1', 'v2'),
];
// two baseline runs of the merge commit, by erin and frank
const fresh = [...run('b1', 'erin', 2.09, { role: 'baseline', pr: null, sha: MERGED }), ...run('b2', 'frank', 2.11, { role: 'baseline', pr: null, sha: MERGED })];
const reused = merged({ baseline_job_ids: ['c1', 'v1', 'v2'] });
const FIVE = ['c1', 'v1', 'v2', 'b1', 'b2'];

describe('a baseline citing the merged claim\'s runs', () => {
  it('is valid when the merge that made its commit names them and a run of the commit ran the same train.ts and harness', () => {
    expect(audit([...claim, reused, ...fresh, baselineOf(FIVE, 2.1)])).toBe('ok');
  });

  it('citing them without the merge naming them is flagged', () => {
    expect(audit([...claim, merged(), ...fresh, baselineOf(FIVE, 2.1)])).toMatch(/seq \d+: baseline_recorded of gpu-a10g at 0+9 cites job c1, a candidate run of PR #7 at 0+7 on gpu-a10g, which no merge that made 0+9 names as a sample of its baseline/);
  });

  it('citing a run of another PR is flagged, and so is a merge naming one', () => {
    const other = run('w1', 'carol', 2.1, { role: 'verify', pr: 8, verifies: 'c8' });
    expect(audit([...claim, ...other, reused, ...fresh, baselineOf([...FIVE, 'w1'], 2.1)])).toMatch(/cites job w1, a verify run of PR #8 at 0+8 on gpu-a10g, which no merge that made 0+9 names/);
    expect(audit([...claim, ...other, merged({ baseline_job_ids: ['c1', 'w1'] })])).toMatch(/experiment_merged of PR #7 names job w1 as a sample of 0+9's baseline, but job w1 is not one of the runs the merge of PR #7 rests on/);
  });

  it('citing them for another class is flagged', () => {
    const t4 = [...run('t1', 'erin', 2.3, { role: 'baseline', pr: null, sha: MERGED, cls: 'gpu-t4' }), ...run('t2', 'frank', 2.3, { role: 'baseline', pr: null, sha: MERGED, cls: 'gpu-t4' })];
    expect(audit([...claim, reused, ...t4, baselineOf(['c1', 'v1', 't1', 't2'], 2.2, 'gpu-t4')])).toMatch(/baseline_recorded of gpu-t4 at 0+9 cites job c1, a candidate run of PR #7 at 0+7 on gpu-a10g, which no merge that made 0+9 names as a sample of its baseline on gpu-t4/);
  });

  it('citing a run its replays outvoted since the merge is flagged; so is one awaiting its replay', () => {
    // dave's v2 is replayed by erin and frank after the merge, who agree with each other and not with it
    const sched = { replay: { schedule: 'steps 1200', of: null } };
    const v2 = run('v2', 'dave', 2.1, { role: 'verify', verifies: 'c1', result: sched });
    const claimR = [...claim.slice(0, -2), ...v2, agreed('c1', 'v2')];
    const r1 = run('r1', 'erin', 2.3, { role: 'verify', verifies: 'v2', replay: 'steps 1200' });
    const r2 = run('r2', 'frank', 2.301, { role: 'verify', verifies: 'v2', replay: 'steps 1200' });
    const r3 = run('r3', 'gina', 2.302, { role: 'verify', verifies: 'v2', replay: 'steps 1200' });
    const judged: NewEntry = { type: 'replay_judged', data: { job_id: 'v2', replay_job_ids: ['r1', 'r2', 'r3'], digests: [null, null, null, null], by: 'val_bpb', tolerance: 0.02, verdict: 'outvoted', outvoted: ['v2'], reason: 'replays' } };
    const fault: NewEntry = { type: 'owner_faulted', data: { login: 'dave', job_id: 'v2', claim_job_id: 'v2', agreed_job_ids: ['r1', 'r2', 'r3'], reason: 'outvoted by its replays' } };
    const before = [...claimR, reused, ...fresh];
    expect(audit([...before, ...r1, ...r2, ...r3, judged, fault, baselineOf(['c1', 'v1', 'b1', 'b2'], 2.1)])).toBe('ok'); // (without v2)
    // two owners alone do not outvote a run under the default policy (outvote_quorum 3)
    const byTwo = (e: NewEntry): NewEntry => ({ ...e, data: { ...e.data, ...(e.type === 'replay_judged' ? { replay_job_ids: ['r1', 'r2'], digests: [null, null, null] } : { agreed_job_ids: ['r1', 'r2'] }) } }) as NewEntry;
    expect(audit([...before, ...r1, ...r2, byTwo(judged), byTwo(fault)])).toMatch(/replay_judged of job v2 says outvoted, but its revealed digests leave it undecided \(a disagreement no 3 agreeing owners settle yet\)/);
    expect(audit([...before, ...r1, ...r2, ...r3, judged, fault, baselineOf(FIVE, 2.1)])).toMatch(/counts job v2 of the merged PR #7, but job v2 was outvoted by other owners' runs/);
    expect(audit([...before, ...r1, baselineOf(FIVE, 2.1)])).toMatch(/counts job v2 of the merged PR #7, but job v2 awaits its replay/);
    // and a merge cannot name a run whose replay is still out
    expect(audit([...claimR, ...r1, reused])).toMatch(/experiment_merged of PR #7 names job v2 as a sample of 0+9's baseline, but job v2 awaits its replay/);
  });

  it('a merge naming the author\'s run, or a replay, is flagged', () => {
    const byBob = [...claim.slice(0, 2), ...run('c1', 'bob', 2.1, { author: 'bob' }), ...claim.slice(4)];
    // (the merge itself stands on carol and dave)
    expect(audit([...byBob, merged()])).toBe('ok');
    expect(audit([...byBob, reused])).toMatch(/names job c1 as a sample of 0+9's baseline, but job c1 ran on a runner of bob, the PR's author/);
    // v2's replay by erin agreed with it: v2 counts, the replay (the same seeds: no fresh sample) does not
    const sched = { replay: { schedule: 'steps 1200', of: null } };
    const replayed = [...claim.slice(0, -2), ...run('v2', 'dave', 2.1, { role: 'verify', verifies: 'c1', result: sched }), agreed('c1', 'v2'), ...run('r1', 'erin', 2.105, { role: 'verify', verifies: 'v2', replay: 'steps 1200' })];
    const judged: NewEntry = { type: 'replay_judged', data: { job_id: 'v2', replay_job_ids: ['r1'], digests: [null, null], by: 'val_bpb', tolerance: 0.02, verdict: 'agreed', outvoted: [], reason: 'replay' } };
    expect(audit([...replayed, judged, merged({ baseline_job_ids: ['c1', 'v1', 'v2'] })])).toBe('ok');
    expect(audit([...replayed, judged, merged({ job_ids: ['c1', 'v1', 'v2', 'r1'], baseline_job_ids: ['c1', 'v1', 'v2', 'r1'] })])).toMatch(/names job r1 as a sample of 0+9's baseline, but job r1 is a replay \(the seeds of another run\), not a fresh sample/);
  });

  it('a baseline of the merged claim\'s runs alone, or beside a run of another train.ts, is flagged', () => {
    expect(audit([...claim, reused, baselineOf(['c1', 'v1', 'v2'], 2.1)])).toMatch(/rests only on runs of the merged PR; it needs at least one baseline run of 0+9/);
    // the commit's own run trained another train.ts (a merge that was not the PR's file): its claim's runs are no samples of it
    const other = [...run('b1', 'erin', 2.09, { role: 'baseline', pr: null, sha: MERGED, result: { candidate_sha256: 'f'.repeat(64) } }), ...fresh.slice(2)];
    expect(audit([...claim, reused, ...other, baselineOf(FIVE, 2.1)])).toMatch(/mixes runs that are not samples of one baseline: job b1 ran train.ts ffffffffffff, job c1 train.ts cccccccccccc/);
    const budget = [...run('b1', 'erin', 2.09, { role: 'baseline', pr: null, sha: MERGED, result: { budget_seconds: 600 } }), ...fresh.slice(2)];
    expect(audit([...claim, reused, ...budget, baselineOf(FIVE, 2.1)])).toMatch(/job b1 trained for 600 s, job c1 for 300 s/);
  });

  // Before: the checkout's verify (`npm run ledger -- verify`, which checks the credits on slim
  // copies of the entries) kept none of the fields these checks compare (train.ts, harness and
  // budget of each run), so it passed both ledgers above, and a merge naming runs of two harnesses.
  it('is flagged by `npm run ledger -- verify` on a checkout as by the audit', async () => {
    const other = [...run('b1', 'erin', 2.09, { role: 'baseline', pr: null, sha: MERGED, result: { candidate_sha256: 'f'.repeat(64) } }), ...fresh.slice(2)];
    expect(await verifyDir([...claim, reused, ...other, baselineOf(FIVE, 2.1)])).toMatch(/mixes runs that are not samples of one baseline: job b1 ran train.ts ffffffffffff, job c1 train.ts cccccccccccc/);
    const budget = [...run('b1', 'erin', 2.09, { role: 'baseline', pr: null, sha: MERGED, result: { budget_seconds: 600 } }), ...fresh.slice(2)];
    expect(await verifyDir([...claim, reused, ...budget, baselineOf(FIVE, 2.1)])).toMatch(/job b1 trained for 600 s, job c1 for 300 s/);
    const harness = [
      baseline(CLS, 20_000),
      policy,
      ...run('c1', 'bob', 2.1),
      ...run('v1', 'carol', 2.1, { role: 'verify', verifies: 'c1', result: { harness_sha256: 'e'.repeat(64), harness_version: 'other' } }),
      agreed('c1', 'v1'),
      ...run('v2', 'dave', 2.1, { role: 'verify', verifies: 'c1' }),
      agreed('c1', 'v2'),
      reused,
    ];
    expect(audit(harness)).toMatch(/names runs that cannot be samples of one baseline: job v1 ran harness other/);
    expect(await verifyDir(harness)).toBe(audit(harness));
    expect(await verifyDir([...claim, reused, ...fresh, baselineOf(FIVE, 2.1)])).toBe('ok');
  });

  // The class: every result field a check reads over these ledgers is one the slim copies keep.
  it('reads no result field that the checkout\'s verify leaves out of its slim copies', () => {
    const read = fieldsRead([...claim, reused, ...fresh, baselineOf(FIVE, 2.1)]);
    expect(read.has('harness_sha256')).toBe(true);
    expect([...read].filter((k) => k in ExperimentResult.shape && !(CHECKED_RESULT_FIELDS as readonly string[]).includes(k))).toEqual([]);
  });
});

describe('a merge resting on one GitHub account under two logins', () => {
  // carol and dave are one account (the route recorded one account id for both: dave is carol
  // renamed, who registered runners again). Before, `npm run ledger -- verify` counted them as two of
  // the merge's three owners; the App refuses such a second login's results now (app/policy/eligibility.ts).
  const reg = (owner: string, owner_id: number): NewEntry => ({ type: 'runner_registered', data: { runner_name: `${owner}-rig`, owner, hardware_class: CLS, labels: ['self-hosted', CLS, `owner-${owner}`], registered_by: 'route', owner_created_at: '2015-01-01T00:00:00Z', owner_id } });
  // (a quorum of 2: three owners, bob's claim and the two verify runs)
  const claim3 = claim.map((e) => (e === policy ? { ...policy, data: { ...DEFAULT_TRUST_POLICY, quorum: 2 } } : e));
  it('is flagged: an account is one owner', () => {
    expect(audit([reg('carol', 33), reg('dave', 34), ...claim3, merged()])).toBe('ok');
    expect(audit([reg('carol', 33), reg('dave', 33), ...claim3, merged()])).toMatch(/experiment_merged of PR #7 rests on 2 independent owner\(s\) \(bob, carol\), but the policy needs 3/);
  });

  it('is flagged when the author is one of them under another login', () => {
    // the PR's author agent-alice registered runners too, and bob is her account renamed
    expect(audit([reg('agent-alice', 35), reg('bob', 36), ...claim3, merged()])).toBe('ok');
    expect(audit([reg('agent-alice', 35), reg('bob', 35), ...claim3, merged()])).toMatch(/rests on 2 independent owner\(s\) \(carol, dave\)/);
  });
});
