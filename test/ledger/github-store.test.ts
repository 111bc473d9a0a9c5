import { afterEach, beforeEach, describe, it, expect, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import nock from 'nock';
import { Octokit } from '@octokit/rest';
import { ProbotOctokit } from 'probot';
import { expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { appendEntries, auditLedger, creditForResult, GitHubLedgerStore, parseHeadFile, shardWrites, parseLedgerText, verifyChain, SHARD_MAX_BYTES, HEAD_FILE, type NewEntry } from '../../ledger/index.js';
import { FakeGitRepo } from './fake-git.js';
import { main as ledgerCli } from '../../ledger/cli.js';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { baseline, dispatched, recorded } from './fixtures.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} }; // 404 on a missing branch is expected
const octokit = () => new Octokit({ auth: 'ghs_test', log: quiet });
const store = (o: Partial<{ maxAttempts: number }> = {}) => new GitHubLedgerStore(octokit(), { owner: 'octo-org', repo: 'swarm', retryDelayMs: 1, ...o });

function branchEntries(repo: FakeGitRepo) {
  const files = repo.filesAt('ledger');
  return parseLedgerText(Object.entries(files).filter(([p]) => p.startsWith('entries/')).map(([path, text]) => ({ path, text })));
}

let repo: FakeGitRepo;
beforeEach(() => {
  nock.disableNetConnect();
  resetRecordedCalls();
  repo = new FakeGitRepo();
  repo.serve();
});
afterEach(() => {
  expectRealGitHubCalls();
  nock.cleanAll();
});

describe('GitHubLedgerStore', () => {
  it('creates the ledger branch as an orphan commit on the first append, with HEAD.json and the extra files', async () => {
    const s = store();
    const added = await s.append([baseline('gpu-a10g', 20_000)], { 'diffs/abc.diff': '--- a/trainer/train.ts\n' });
    expect(recordedCalls()).toEqual([
      'GET /repos/{owner}/{repo}/git/ref/{ref}',
      'POST /repos/{owner}/{repo}/git/trees',
      'POST /repos/{owner}/{repo}/git/commits',
      'POST /repos/{owner}/{repo}/git/refs',
    ]);
    const commit = repo.commits.get(repo.refs.get('heads/ledger')!)!;
    expect(commit.parents).toEqual([]);
    const files = repo.filesAt();
    expect(Object.keys(files).sort()).toEqual([HEAD_FILE, 'diffs/abc.diff', 'entries/000000.jsonl']);
    expect(parseHeadFile(files[HEAD_FILE])).toMatchObject({ seq: 0, hash: added[0].hash, shard: 'entries/000000.jsonl' });
    expect(await store().read()).toEqual(added);
  });

  it('appends with 3 calls when it knows the head and 7 when it does not, keeping files already on the branch', async () => {
    const s = store();
    await s.append([baseline('gpu-a10g', 20_000)], { 'diffs/abc.diff': 'diff' });
    resetRecordedCalls();
    await s.append([dispatched('j1', 'agent-alice')]);
    expect(recordedCalls()).toEqual(['POST /repos/{owner}/{repo}/git/trees', 'POST /repos/{owner}/{repo}/git/commits', 'PATCH /repos/{owner}/{repo}/git/refs/{ref}']);
    resetRecordedCalls();
    await store().append([recorded('j1', 'gpu-bob')]); // a fresh process: the App restarted
    expect(recordedCalls()).toEqual([
      'GET /repos/{owner}/{repo}/git/ref/{ref}',
      'GET /repos/{owner}/{repo}/git/commits/{commit_sha}',
      'GET /repos/{owner}/{repo}/contents/{path}',
      'GET /repos/{owner}/{repo}/contents/{path}',
      'POST /repos/{owner}/{repo}/git/trees',
      'POST /repos/{owner}/{repo}/git/commits',
      'PATCH /repos/{owner}/{repo}/git/refs/{ref}',
    ]);
    expect(repo.filesAt()['diffs/abc.diff']).toBe('diff');
    const entries = branchEntries(repo);
    expect(entries.map((e) => e.type)).toEqual(['baseline_recorded', 'job_dispatched', 'result_recorded']);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it('lands two concurrent appends exactly once each, in order, when the ref update answers 422', async () => {
    await store().append([baseline('gpu-a10g', 20_000)]);
    const a = store();
    const b = store();
    await a.read();
    await b.read(); // both now believe seq 0 is the head
    resetRecordedCalls();
    const [ea, eb] = await Promise.all([a.append([dispatched('job-a', 'agent-alice')]), b.append([dispatched('job-b', 'agent-carol')])]);
    const calls = recordedCalls();
    expect(calls.filter((c) => c.startsWith('PATCH'))).toHaveLength(3); // one of them was refused once
    const entries = branchEntries(repo);
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(entries.filter((e) => e.type === 'job_dispatched').map((e) => (e.data as { job_id: string }).job_id).sort()).toEqual(['job-a', 'job-b']);
    expect(verifyChain(entries).ok).toBe(true);
    // each writer got back the entries as they were stored, with the seq they finally took
    expect([ea[0].seq, eb[0].seq].sort()).toEqual([1, 2]);
    expect(entries).toEqual(expect.arrayContaining([...ea, ...eb]));
    expect(parseHeadFile(repo.filesAt()[HEAD_FILE]).seq).toBe(2);
  });

  it('re-sequences on the moved branch when another writer lands between its commit and its ref update', async () => {
    const a = store();
    await a.append([baseline('gpu-a10g', 20_000)]);
    repo.beforeUpdateRef = (ref) => {
      repo.beforeUpdateRef = null;
      // Another App instance's append lands first: a real ledger commit on top of the head.
      const entries = branchEntries(repo);
      const added = appendEntries(entries, [dispatched('sneaky', 'agent-carol')]);
      const head = repo.refs.get(ref)!;
      const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
      const tail = { path: 'entries/000000.jsonl', text: repo.filesAt()['entries/000000.jsonl'] };
      for (const [path, text] of Object.entries(shardWrites(tail, added).files)) tree.set(path, repo.putBlob(text));
      repo.refs.set(ref, repo.putCommit(repo.putTree(tree), [head], 'other writer'));
    };
    const mine = await a.append([dispatched('mine', 'agent-alice')]);
    const entries = branchEntries(repo);
    expect(entries.map((e) => (e.data as { job_id?: string }).job_id ?? e.type)).toEqual(['baseline_recorded', 'sneaky', 'mine']);
    expect(mine[0]).toMatchObject({ seq: 2, prev: entries[1].hash });
    expect(verifyChain(entries).ok).toBe(true);
    expect(parseHeadFile(repo.filesAt()[HEAD_FILE])).toMatchObject({ seq: 2, hash: mine[0].hash });
  });

  it('rebuilds entries that depend on the chain after a conflict, so two writers cannot both grant one job', async () => {
    await store().append([baseline('gpu-a10g', 20_000), recorded('j1', 'gpu-bob')]);
    const a = store();
    const b = store();
    await a.read();
    await b.read();
    const grantJ1 = (entries: Parameters<typeof creditForResult>[0]) => {
      const g = creditForResult(entries, 'j1');
      return g ? [g] : [];
    };
    const [ga, gb] = await Promise.all([a.appendFor(grantJ1), b.appendFor(grantJ1)]);
    expect([ga.length, gb.length].sort()).toEqual([0, 1]); // the later writer found the grant already there
    const entries = branchEntries(repo);
    expect(entries.filter((e) => e.type === 'credit_granted')).toHaveLength(1);
    expect(auditLedger(entries).ok).toBe(true);
    // With plain lists computed from each writer's own read, the same race grants twice: the
    // store keeps both entries (it never drops one), and the audit names the second.
    await store().append([recorded('j2', 'gpu-bob')]);
    const c = store();
    const d = store();
    const [fromC, fromD] = [creditForResult(await c.read(), 'j2')!, creditForResult(await d.read(), 'j2')!];
    await Promise.all([c.append([fromC]), d.append([fromD])]);
    const after = branchEntries(repo);
    const second = after.filter((e) => e.type === 'credit_granted')[2];
    expect(auditLedger(after)).toMatchObject({ ok: false, seq: second.seq, problem: expect.stringMatching(/job j2 was already granted credit/) });
  });

  it('gives up after bounded attempts with one clear error, appending nothing', async () => {
    const a = store({ maxAttempts: 2 });
    await a.append([baseline('gpu-a10g', 20_000)]);
    repo.beforeUpdateRef = (ref) => {
      // someone else commits on the branch just before each of our updates
      const head = repo.refs.get(ref)!;
      repo.refs.set(ref, repo.putCommit(repo.commits.get(head)!.tree, [head], 'noise'));
    };
    await expect(a.append([dispatched('j1', 'agent-alice')])).rejects.toThrow(/moved on each of 2 attempts.*nothing was appended/);
    expect(branchEntries(repo)).toHaveLength(1);
  });

  it('starts a new shard when the next entry would pass the size cap, and reads the ledger back from all shards', async () => {
    const s = store();
    // results carrying a 100 KB log excerpt: about ten fit in a shard
    const big = (i: number): NewEntry => {
      const r = recorded(`j${i}`, 'gpu-bob');
      return { ...r, data: { ...r.data, log_excerpt: 'x'.repeat(100_000) } };
    };
    await s.append(Array.from({ length: 8 }, (_, i) => big(i)));
    await s.append(Array.from({ length: 6 }, (_, i) => big(8 + i))); // crosses the cap
    const files = repo.filesAt();
    const shards = Object.keys(files).filter((p) => p.startsWith('entries/')).sort();
    expect(shards).toHaveLength(2);
    expect(shards[0]).toBe('entries/000000.jsonl');
    const second = Number(shards[1].match(/(\d+)\.jsonl$/)![1]);
    expect(files[shards[0]].trim().split('\n')).toHaveLength(second); // the second shard is named by its first seq
    for (const p of shards) expect(Buffer.byteLength(files[p])).toBeLessThanOrEqual(SHARD_MAX_BYTES);
    expect(parseHeadFile(files[HEAD_FILE])).toMatchObject({ seq: 13, shard: shards[1] });
    const fresh = store();
    expect(await fresh.read()).toHaveLength(14);
    resetRecordedCalls();
    await fresh.append([dispatched('after-read', 'agent-alice')]); // the read primed the head: 3 calls
    expect(recordedCalls()).toHaveLength(3);
    resetRecordedCalls();
    expect(await fresh.read()).toHaveLength(15); // unchanged since: only getRef
    expect(recordedCalls()).toEqual(['GET /repos/{owner}/{repo}/git/ref/{ref}']);
    resetRecordedCalls();
    expect(await store().append([dispatched('cold', 'agent-alice')])).toMatchObject([{ seq: 15 }]); // cold: finds the tail through HEAD.json
    expect(recordedCalls()).toHaveLength(7);
    expect(verifyChain(branchEntries(repo)).ok).toBe(true);
  });

  it('refuses extra files that would overwrite the ledger itself', async () => {
    await expect(store().append([dispatched('j1', 'a')], { 'entries/000000.jsonl': '' })).rejects.toThrow(/extra file "entries\/000000.jsonl" may not be/);
    await expect(store().append([], { '../x': '' })).rejects.toThrow(/contain "\.\."/);
    expect(repo.refs.size).toBe(0);
  });

  it('refuses to append on a branch whose HEAD.json disagrees with its last shard or is missing, or that was deleted', async () => {
    await store().append([baseline('gpu-a10g', 20_000)]);
    const head = repo.refs.get('heads/ledger')!;
    const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
    tree.set(HEAD_FILE, repo.putBlob(JSON.stringify({ seq: 0, hash: 'f'.repeat(64), time: '2026-01-01T00:00:00Z', shard: 'entries/000000.jsonl' })));
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [head], 'hand edit'));
    await expect(store().append([dispatched('j1', 'a')])).rejects.toThrow(/HEAD.json says seq 0 ffffffffffff but entries\/000000.jsonl ends at seq 0/);
    tree.delete(HEAD_FILE);
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [repo.refs.get('heads/ledger')!], 'HEAD.json deleted'));
    await expect(store().append([dispatched('j1', 'a')])).rejects.toThrow(/has shards under entries\/ but no HEAD.json/);
    expect(branchEntries(repo)).toHaveLength(1);
    const seen = store();
    await seen.read();
    repo.refs.delete('heads/ledger');
    await expect(seen.append([dispatched('j1', 'a')])).rejects.toThrow(/was deleted after this store read it/);
    expect(repo.refs.size).toBe(0);
  });

  it("works with Probot's octokit (what the App hands it)", async () => {
    const probotOctokit = new ProbotOctokit({ auth: { token: 'ghs_test' }, log: quiet, retry: { enabled: false }, throttle: { enabled: false } });
    const s = new GitHubLedgerStore(probotOctokit, { owner: 'octo-org', repo: 'swarm' });
    await s.append([baseline('gpu-a10g', 20_000)]);
    expect(await s.read()).toHaveLength(1);
  });

  it('writes a branch that `npm run ledger -- verify` accepts and `balance` reads, diffs included', async () => {
    const s = store();
    const diff = '--- a/trainer/train.ts\n+++ b/trainer/train.ts\n';
    const r = recorded('j1', 'gpu-bob');
    await s.append([baseline('gpu-a10g', 20_000), dispatched('j1', 'agent-alice'), { type: 'credit_spent', data: { login: 'agent-alice', amount: 0, job_id: 'j1', reason: 'free_tier' } }]);
    await s.append([{ ...r, data: { ...r.data, diff_sha256: createHash('sha256').update(diff).digest('hex') } }], { [r.data.diff_path!]: diff });
    await s.appendFor((chain) => [creditForResult(chain, 'j1')!]);
    const dir = mkdtempSync(join(tmpdir(), 'ledger-branch-'));
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      for (const [path, text] of Object.entries(repo.filesAt())) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      }
      expect(await ledgerCli(['verify', dir, '--threads', '1'])).toBe(0);
      expect(out.pop()).toMatch(/^ledger OK: 5 entries/);
      expect(await ledgerCli(['balance', 'gpu-bob', dir])).toBe(0);
      expect(out.pop()).toMatch(/gpu-bob: balance 300\.0 credits/);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
