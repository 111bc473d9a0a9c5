// Red team: a `verification` entry is what confirms a result under the trust policy (a confirmed
// result earns, counts toward its owner's trust and a merge's quorum). Written by someone with
// write access to the ledger branch other than the App, one entry must not be enough to mint:
// `npm run ledger -- verify` recomputes what it may claim from the results before it.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, auditLedger, creditForResult, DEFAULT_TRUST_POLICY, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { baseline, dispatched, recorded } from './fixtures.js';

const policy: NewEntry<'trust_policy'> = { type: 'trust_policy', data: DEFAULT_TRUST_POLICY };
const build = (news: NewEntry[]): LedgerEntry[] => appendEntries([], news.map((n) => ({ time: '2026-03-02T10:00:00.000Z', ...n })));
const verification = (verify: string, agreed = true): NewEntry<'verification'> => ({ type: 'verification', data: { job_id: 'j1', verify_job_id: verify, agreed, claim_bpb: 2.1, verify_bpb: 2.1, tolerance: 0.02 } });
const verifyRun = (id: string, owner: string, val_bpb: number): NewEntry[] => [
  dispatched(id, null, { role: 'verify' }),
  { ...recorded(id, owner, { val_bpb }), data: { ...recorded(id, owner, { val_bpb }).data, role: 'verify' as const } },
];
/** bob's claim j1 under the policy: unconfirmed, it earns nothing yet */
const base: NewEntry[] = [baseline('gpu-a10g', 20_000), policy, dispatched('j1', 'agent-alice'), recorded('j1', 'bob', { val_bpb: 2.1 })];

/** The ledger with the forged verification and the grant it would allow, and what the audit says. */
function mint(extra: NewEntry[]): string {
  const entries = build([...base, ...extra]);
  const grant = creditForResult(entries, 'j1');
  if (!grant) return 'no grant';
  const a = auditLedger([...entries, ...appendEntries(entries, [grant])]);
  return a.ok ? 'minted' : a.problem;
}

describe('a forged verification entry', () => {
  it('the App’s own confirmation (another owner’s validated run that agrees) still earns', () => {
    expect(mint([...verifyRun('v1', 'carol', 2.105), verification('v1')])).toBe('minted');
  });

  it('citing a verify run that has no result is refused', () => {
    expect(mint([verification('phantom-run')])).toMatch(/verification of job j1 cites verify run phantom-run, which has no validated result before it/);
  });

  it('citing a run of the claim’s own owner (any case) is refused', () => {
    expect(mint([...verifyRun('v1', 'Bob', 2.1), verification('v1')])).toMatch(/verification of job j1 cites verify run v1 of Bob, the claim's own runner owner/);
  });

  it('saying two runs agree that the recorded scores say do not is refused', () => {
    expect(mint([...verifyRun('v1', 'carol', 2.6), verification('v1')])).toMatch(/verification of job j1 says the runs agree, but their recorded scores 2.1 and 2.6 differ by more than its tolerance 0.02/);
  });

  it('a tolerance below the policy’s is refused', () => {
    expect(mint([...verifyRun('v1', 'carol', 2.1), { ...verification('v1'), data: { ...verification('v1').data, tolerance: 0.001 } }])).toMatch(/judged with tolerance 0.001, below the policy's 0.02/);
  });
});
