// The contributors page and contributors.json show each runner owner's standing under the trust
// policy as the ledger's own fold computes it: probation, trusted or banned, faults, and the
// replays its runs passed or failed. A lazy owner outvoted by three replays and banned must show so.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEntries, DEFAULT_TRUST_POLICY, writeLedgerDir, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { ApiContributors } from '../../leaderboard/src/api-schema.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { sampleLedger, sampleResult } from '../../leaderboard/src/sample-ledger.js';

const REPO = 'swarm-org/autoresearch-swarm';
const SHA = 'c'.repeat(40);

function ledgerWithAReplayFault(): { entries: LedgerEntry[]; files: Record<string, string> } {
  const sample = sampleLedger({ experiments: 4, curvePoints: 8 });
  const last = Date.parse(sample.entries[sample.entries.length - 1].time);
  const at = (min: number) => new Date(last + min * 60_000);
  const cls = (sample.entries.find((e) => e.type === 'baseline_recorded')!.data as { hardware_class: string }).hardware_class;
  const result = (job_id: string, owner: string, role: 'candidate' | 'verify', min: number, run: number): NewEntry => ({
    type: 'result_recorded',
    time: at(min).toISOString(),
    data: {
      job_id, role, pr: 77, sha: SHA, title: 'A lazy run', author: 'alice', runner_name: `${owner}-0`, runner_owner: owner,
      run_url: `https://github.com/${REPO}/actions/runs/${run}`, validated: true, reason: null,
      result: sampleResult({ cls, valBpb: 3.1, seed: run, curvePoints: 8, finishedAt: at(min), job: { role, nonce: `nonce-${job_id}`, repo: REPO, pr: 77, sha: SHA, run_id: run, runner_name: `${owner}-0`, isolation: 'docker' } }),
      diff_path: null, diff_sha256: null, diff: '--- a/trainer/train.ts\n+++ b/trainer/train.ts\n@@ -1 +1 @@\n-a\n+b\n', log_excerpt: 'val_bpb 3.1',
    },
  });
  const lazyDigest = 'a'.repeat(64);
  const trueDigest = 'b'.repeat(64);
  const added: NewEntry[] = [
    { type: 'trust_policy', data: { ...DEFAULT_TRUST_POLICY, deterministic_backends: ['wasm', 'cpu'] } },
    result('job-lazy', 'mallory', 'candidate', 1, 5001),
    result('job-replay-1', 'bob', 'verify', 8, 5002),
    result('job-replay-2', 'carol', 'verify', 15, 5003),
    result('job-replay-3', 'dave', 'verify', 22, 5004),
    { type: 'replay_judged', time: at(22).toISOString(), data: { job_id: 'job-lazy', replay_job_ids: ['job-replay-1', 'job-replay-2', 'job-replay-3'], digests: [lazyDigest, trueDigest, trueDigest, trueDigest], by: 'digest', tolerance: 0, verdict: 'outvoted', outvoted: ['job-lazy'], reason: 'three replays reproduced a checkpoint other than the one mallory sealed' } },
    { type: 'owner_faulted', time: at(22).toISOString(), data: { login: 'mallory', job_id: 'job-lazy', claim_job_id: 'job-lazy', agreed_job_ids: ['job-replay-1', 'job-replay-2', 'job-replay-3'], reason: 'outvoted by three replays' } },
    { type: 'owner_banned', time: at(22).toISOString(), data: { login: 'mallory', reason: '2 faults, the last on job job-lazy' } },
  ];
  return { entries: [...sample.entries, ...appendEntries(sample.entries, added)], files: sample.files };
}

describe('owners\' trust on the leaderboard', () => {
  let data: ApiContributors;
  let page: string;

  beforeAll(async () => {
    const l = ledgerWithAReplayFault();
    const dir = join(mkdtempSync(join(tmpdir(), 'lb-trust-')), 'ledger');
    writeLedgerDir(dir, l.entries, l.files);
    const site = join(dir, '..', 'site');
    await buildSite(dir, site, { now: new Date('2026-02-01T00:00:00Z') });
    data = ApiContributors.parse(JSON.parse(readFileSync(join(site, 'api/v1/contributors.json'), 'utf8')));
    page = readFileSync(join(site, 'contributors.html'), 'utf8');
  });

  it('gives each owner its status, faults and replays as the ledger\'s fold computes them', () => {
    const of = (login: string) => data.contributors.find((c) => c.login === login)?.trust;
    expect(of('mallory')).toEqual({ status: 'banned', agreed: 0, needed: 10, faults: 1, replays_passed: 0, replays_failed: 1, banned_reason: '2 faults, the last on job job-lazy' });
    expect(of('bob')).toMatchObject({ status: 'probation', faults: 0, replays_passed: 1, replays_failed: 0, banned_reason: null });
    expect(of('carol')).toMatchObject({ status: 'probation', replays_passed: 1 });
    // an author who never ran a job has no standing as an owner
    expect(of('alice') ?? null).toBeNull();
  });

  it('shows the banned owner in the GPU owners table, with the reason', () => {
    const row = page.split('\n').find((l) => l.includes('class="banned"'));
    expect(row).toBeDefined();
    expect(row).toContain('mallory');
    expect(row).toContain('title="2 faults, the last on job job-lazy"');
    expect(row).toContain('0 (1 failed)');
    expect(page).toMatch(/probation \(\d+ of 10\)/);
  });
});
