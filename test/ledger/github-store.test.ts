import { afterEach, beforeEach, describe, it, expect, jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import nock from 'nock';
import { Octokit } from '@octokit/rest';
import { ProbotOctokit } from 'probot';
import { expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import {
  appendEntries,
  auditLedger,
  creditForResult,
  entryLine,
  GitHubLedgerStore,
  parseLedgerText,
  shardName,
  verifyChain,
  SHARD_MAX_BYTES,
  TAIL_FILE,
  type GitHubLedgerStoreOptions,
  type LedgerEntry,
  type NewEntry,
} from '../../ledger/index.js';
import { FakeGitRepo } from './fake-git.js';
import { main as ledgerCli } from '../../ledger/cli.js';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { at, baseline, dispatched, recorded } from './fixtures.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} }; // 404 on a missing branch is expected
const octokit = () => new Octokit({ auth: 'ghs_test', log: quiet });
const store = (o: Partial<GitHubLedgerStoreOptions> = {}) => new GitHubLedgerStore(octokit(), { owner: 'octo-org', repo: 'swarm', retryDelayMs: 1, ...o });

const PUT = 'PUT /repos/{owner}/{repo}/contents/{path}';
const GET_CONTENTS = 'GET /repos/{owner}/{repo}/contents/{path}';
const GET_TREE = 'GET /repos/{owner}/{repo}/git/trees/{tree_sha}';
/** the listing of entries/: the branch's root tree, then entries/ */
const LIST = [GET_TREE, GET_TREE];
const GIT_COMMIT = ['POST /repos/{owner}/{repo}/git/trees', 'POST /repos/{owner}/{repo}/git/commits', 'PATCH /repos/{owner}/{repo}/git/refs/{ref}'];

function branchEntries(repo: FakeGitRepo): LedgerEntry[] {
  const files = repo.filesAt('ledger');
  return parseLedgerText(Object.entries(files).filter(([p]) => p.startsWith('entries/')).map(([path, text]) => ({ path, text })));
}
const shardsOf = (repo: FakeGitRepo) => Object.keys(repo.filesAt()).filter((p) => p.startsWith('entries/')).sort();
const jobIds = (entries: LedgerEntry[]) => entries.map((e) => (e.data as { job_id?: string }).job_id ?? e.type);

/** A result carrying a log excerpt of `bytes`: a few of them fill a shard. */
const big = (i: number, bytes = 14_000): NewEntry => {
  const r = recorded(`j${i}`, 'gpu-bob');
  return { ...r, data: { ...r.data, log_excerpt: 'x'.repeat(bytes) } };
};

/** Another App process's append landing directly on the branch: the tail rewritten with one more entry. */
function otherWriterAppends(repo: FakeGitRepo, news: NewEntry[]): void {
  const entries = branchEntries(repo);
  const added = appendEntries(entries, news);
  const head = repo.refs.get('heads/ledger')!;
  const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
  const tail = repo.filesAt()[TAIL_FILE] ?? '';
  tree.set(TAIL_FILE, repo.putBlob(tail + added.map(entryLine).join('')));
  repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [head], 'other writer'));
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
  it('creates the ledger branch as an orphan commit on the first append, with tail.jsonl and the extra files', async () => {
    const s = store();
    const added = await s.append([baseline('gpu-a10g', 20_000)], { 'diffs/abc.diff': '--- a/trainer/train.ts\n' });
    expect(recordedCalls()).toEqual([
      GET_CONTENTS, // tail.jsonl: 404
      'GET /repos/{owner}/{repo}/git/ref/{ref}', // 404: no branch yet
      'POST /repos/{owner}/{repo}/git/trees',
      'POST /repos/{owner}/{repo}/git/commits',
      'POST /repos/{owner}/{repo}/git/refs',
    ]);
    const commit = repo.commits.get(repo.refs.get('heads/ledger')!)!;
    expect(commit.parents).toEqual([]);
    expect(Object.keys(repo.filesAt()).sort()).toEqual(['diffs/abc.diff', TAIL_FILE]);
    expect(branchEntries(repo)).toEqual(added);
    expect(await store().read()).toEqual(added);
  });

  it('appends with exactly one request when warm (PUT of tail.jsonl) and two when cold, keeping files already on the branch', async () => {
    const s = store();
    await s.append([baseline('gpu-a10g', 20_000)], { 'diffs/abc.diff': 'diff' });
    resetRecordedCalls();
    const [d] = await s.append([dispatched('j1', 'agent-alice')]);
    expect(recordedCalls()).toEqual([PUT]);
    expect(s.calls).toBe(6);
    expect(repo.commits.get(repo.refs.get('heads/ledger')!)!.message).toMatch(/^ledger: seq 1 \(job_dispatched\)\n\nwrite [0-9a-f]{12}$/);
    resetRecordedCalls();
    const cold = store(); // a fresh process: the App restarted
    await cold.append([recorded('j1', 'gpu-bob'), dispatched('j2', 'agent-carol')]);
    expect(recordedCalls()).toEqual([GET_CONTENTS, PUT]); // the tail starts at seq 0: nothing else to read
    expect(repo.commits.get(repo.refs.get('heads/ledger')!)!.message).toMatch(/^ledger: seq 2-3 \(result_recorded, job_dispatched\)\n/);
    expect(repo.filesAt()['diffs/abc.diff']).toBe('diff');
    const entries = branchEntries(repo);
    expect(jobIds(entries)).toEqual(['baseline_recorded', 'j1', 'j1', 'j2']);
    expect(entries[1]).toEqual(d);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it('reads for free within the trust window, then with one conditional request that GitHub answers 304', async () => {
    let clock = 1_000_000;
    const s = store({ now: () => clock, trustMs: 60_000 });
    await store().append([baseline('gpu-a10g', 20_000)]);
    resetRecordedCalls();
    expect(await s.read()).toHaveLength(1); // cold: GET tail.jsonl (200, ETag kept)
    expect(recordedCalls()).toEqual([GET_CONTENTS]);
    resetRecordedCalls();
    clock += 59_000;
    expect(await s.read()).toHaveLength(1);
    expect(recordedCalls()).toEqual([]);
    clock += 1_000;
    expect(await s.read()).toHaveLength(1);
    expect(recordedCalls()).toEqual([GET_CONTENTS]);
    expect([s.calls, s.notModified]).toEqual([2, 1]);
    // The 304 renewed the window.
    clock += 30_000;
    resetRecordedCalls();
    await s.read();
    expect(recordedCalls()).toEqual([]);
    // Another process appends; past the window the same one request brings the new entries, checked on top.
    otherWriterAppends(repo, [dispatched('elsewhere', 'agent-carol')]);
    clock += 60_000;
    expect(jobIds(await s.read())).toEqual(['baseline_recorded', 'elsewhere']);
    expect(recordedCalls()).toEqual([GET_CONTENTS]);
    expect([s.calls, s.notModified]).toEqual([3, 1]);
  });

  it('re-sequences after a 409 when another writer appended first: nothing lost, nothing twice, in order', async () => {
    await store().append([baseline('gpu-a10g', 20_000)]);
    const a = store();
    const b = store();
    await a.read();
    await b.read(); // both now believe seq 0 is the last entry
    resetRecordedCalls();
    const [ea, eb] = await Promise.all([a.append([dispatched('job-a', 'agent-alice')]), b.append([dispatched('job-b', 'agent-carol')])]);
    // one PUT each, one of them refused (409), a GET of the tail, and its PUT again
    expect(recordedCalls().sort()).toEqual([GET_CONTENTS, PUT, PUT, PUT]);
    const entries = branchEntries(repo);
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(jobIds(entries).slice(1).sort()).toEqual(['job-a', 'job-b']);
    expect(verifyChain(entries).ok).toBe(true);
    // each writer got back its entries as stored, with the seq they finally took
    expect([ea[0].seq, eb[0].seq].sort()).toEqual([1, 2]);
    expect(entries).toEqual(expect.arrayContaining([...ea, ...eb]));
    // and each knows the chain it wrote on: both read it without a request
    resetRecordedCalls();
    expect(await a.read()).toHaveLength(ea[0].seq + 1);
    expect(await b.read()).toHaveLength(eb[0].seq + 1);
    expect(recordedCalls()).toEqual([]);
  });

  it('rebuilds entries that depend on the chain after a conflict, so two writers cannot both grant one job', async () => {
    await store().append([baseline('gpu-a10g', 20_000), recorded('j1', 'gpu-bob')]);
    const a = store();
    const b = store();
    await a.read();
    await b.read();
    // one clock for both (as the App stamps entries): their grants are identical to the byte
    const grantJ1 = (entries: Parameters<typeof creditForResult>[0]) => {
      const g = creditForResult(entries, 'j1');
      return g ? [{ ...g, time: at(5) }] : [];
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
    await Promise.all([c.append([{ ...fromC, time: at(1) }]), d.append([{ ...fromD, time: at(2) }])]);
    const after = branchEntries(repo);
    const second = after.filter((e) => e.type === 'credit_granted')[2];
    expect(auditLedger(after)).toMatchObject({ ok: false, seq: second.seq, problem: expect.stringMatching(/job j2 was already granted credit/) });
    // The same entry to the millisecond, appended by two writers at once, is one entry: the loser
    // of the race finds it on the chain (as it would find its own write whose answer was lost).
    const [e, f] = [store(), store()];
    await Promise.all([e.read(), f.read()]);
    const same = { ...dispatched('j9', 'agent-alice'), time: at(3) };
    const [sc, sd] = await Promise.all([e.append([same]), f.append([same])]);
    expect(sc).toEqual(sd);
    expect(jobIds(branchEntries(repo)).filter((j) => j === 'j9')).toHaveLength(1);
  });

  it('does not append twice when a PUT landed but its answer was lost and the client retried it', async () => {
    const s = store();
    await s.append([baseline('gpu-a10g', 20_000)]);
    repo.failAfterPut = 502; // applied, then answered 502
    const added = await s.append([dispatched('j1', 'agent-alice')]);
    expect(jobIds(branchEntries(repo))).toEqual(['baseline_recorded', 'j1']);
    expect(added).toEqual([branchEntries(repo)[1]]);
    // the same seen through a retrying client: its second PUT carries the old sha and gets 409
    repo.failAfterPut = 502;
    const retrying = new GitHubLedgerStore(
      {
        rest: {
          git: octokit().rest.git,
          repos: {
            getContent: octokit().rest.repos.getContent,
            createOrUpdateFileContents: (async (p: Parameters<Octokit['rest']['repos']['createOrUpdateFileContents']>[0]) => {
              const o = octokit();
              return o.rest.repos.createOrUpdateFileContents(p).catch(() => o.rest.repos.createOrUpdateFileContents(p));
            }) as Octokit['rest']['repos']['createOrUpdateFileContents'],
          },
        },
      },
      { owner: 'octo-org', repo: 'swarm', retryDelayMs: 1 },
    );
    await retrying.read();
    await retrying.append([dispatched('j2', 'agent-alice')]);
    expect(jobIds(branchEntries(repo))).toEqual(['baseline_recorded', 'j1', 'j2']);
    // built entries too: the 409 to the repeated PUT is this write's own, so the caller gets its entries back
    await retrying.append([recorded('j3', 'gpu-bob')]);
    repo.failAfterPut = 502;
    const grant = await retrying.appendFor((chain) => {
      const g = creditForResult(chain, 'j3');
      return g ? [g] : [];
    });
    expect(grant).toMatchObject([{ type: 'credit_granted', seq: 4 }]);
    expect(branchEntries(repo).filter((e) => e.type === 'credit_granted')).toEqual(grant);
  });

  it('gives up after bounded attempts with one clear error, appending nothing of its own', async () => {
    const a = store({ maxAttempts: 2 });
    await a.append([baseline('gpu-a10g', 20_000)]);
    let n = 0;
    repo.beforeWrite = () => otherWriterAppends(repo, [dispatched(`other-${n++}`, 'agent-carol')]); // someone wins every race
    await expect(a.append([dispatched('mine', 'agent-alice')])).rejects.toThrow(/changed on each of 2 attempts.*nothing was appended/);
    repo.beforeWrite = null;
    expect(jobIds(branchEntries(repo))).toEqual(['baseline_recorded', 'other-0', 'other-1']);
  });

  it('seals a full tail under its first seq in one Git Data commit (3 requests), and reads the ledger back from all shards', async () => {
    const s = store();
    await s.append(Array.from({ length: 7 }, (_, i) => big(i)));
    resetRecordedCalls();
    await s.append(Array.from({ length: 6 }, (_, i) => big(7 + i))); // crosses the cap
    expect(recordedCalls()).toEqual(GIT_COMMIT);
    const files = repo.filesAt();
    const shards = shardsOf(repo);
    expect(shards).toEqual(['entries/000000.jsonl', TAIL_FILE]);
    const sealed = files['entries/000000.jsonl'].trim().split('\n');
    expect(JSON.parse(files[TAIL_FILE].split('\n')[0]).seq).toBe(sealed.length); // the tail goes on where the sealed shard stops
    for (const p of shards) expect(Buffer.byteLength(files[p])).toBeLessThanOrEqual(SHARD_MAX_BYTES);
    expect(branchEntries(repo)).toHaveLength(13);
    // warm again: the next append is one PUT
    resetRecordedCalls();
    await s.append([dispatched('after-seal', 'agent-alice')]);
    expect(recordedCalls()).toEqual([PUT]);
    // a fresh store reads the tail, lists entries/ and fetches the sealed shard once
    resetRecordedCalls();
    const fresh = store();
    expect(await fresh.read()).toHaveLength(14);
    expect(recordedCalls()).toEqual([GET_CONTENTS, ...LIST, 'GET /repos/{owner}/{repo}/git/blobs/{file_sha}']);
    resetRecordedCalls();
    await fresh.append([dispatched('fresh', 'agent-alice')]);
    expect(recordedCalls()).toEqual([PUT]);
    // a store whose view came from a read finds the branch commit before sealing: 4 more requests
    const reader = store();
    await reader.read();
    resetRecordedCalls();
    await reader.append(Array.from({ length: 8 }, (_, i) => big(20 + i)));
    expect(recordedCalls()).toEqual(['GET /repos/{owner}/{repo}/git/ref/{ref}', 'GET /repos/{owner}/{repo}/git/commits/{commit_sha}', ...LIST, ...GIT_COMMIT]);
    expect(shardsOf(repo)).toHaveLength(3);
    const entries = branchEntries(repo);
    expect(entries).toHaveLength(23);
    expect(verifyChain(entries).ok).toBe(true);
  });

  it('reads and appends to a ledger of more than 1,000 shards (the contents API lists at most 1,000 files)', async () => {
    // 1,001 sealed shards of one entry each (a ledger of ~130 MB at 128 KiB a shard) and the tail;
    // the listing came from the contents API, which GitHub caps at 1,000 files: the store refused
    // to read such a ledger at all. Git trees list entries/ whole.
    const entries = appendEntries([], Array.from({ length: 1002 }, (_, i) => dispatched(`j${i}`, 'agent-alice')));
    const tree = new Map<string, string>();
    for (const e of entries.slice(0, -1)) tree.set(shardName(e.seq), repo.putBlob(entryLine(e)));
    tree.set(TAIL_FILE, repo.putBlob(entryLine(entries[entries.length - 1])));
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [], 'a long ledger'));
    const s = store();
    expect(await s.read()).toEqual(entries);
    await s.append([dispatched('next', 'agent-alice')]);
    expect(branchEntries(repo)).toHaveLength(1003);
    expect(verifyChain(branchEntries(repo)).ok).toBe(true);
  }, 60_000);

  it('cannot fork the chain when a stale writer races a seal: its PUT with the old tail sha gets 409', async () => {
    await store().append(Array.from({ length: 8 }, (_, i) => big(i)));
    const stale = store();
    const sealer = store();
    await stale.read();
    await sealer.read();
    await sealer.append(Array.from({ length: 3 }, (_, i) => big(8 + i))); // seals the tail: a Git Data commit
    expect(shardsOf(repo)).toEqual(['entries/000000.jsonl', TAIL_FILE]);
    resetRecordedCalls();
    const [mine] = await stale.append([dispatched('stale', 'agent-alice')]);
    // refused, then: the new tail (not an extension of the old one), the listing, the newly sealed shard, and the PUT again
    expect(recordedCalls()).toEqual([PUT, GET_CONTENTS, ...LIST, 'GET /repos/{owner}/{repo}/git/blobs/{file_sha}', PUT]);
    const entries = branchEntries(repo);
    expect(entries).toHaveLength(12);
    expect(entries[11]).toEqual(mine);
    expect(verifyChain(entries).ok).toBe(true);
    // the other way round: a PUT lands between the sealer's view and its ref update (422, not a fast forward)
    const sealer2 = store();
    await sealer2.read();
    await sealer2.append([dispatched('warm', 'agent-alice')]); // its view now comes from its own write
    repo.beforeWrite = () => {
      repo.beforeWrite = null;
      otherWriterAppends(repo, [dispatched('sneaky', 'agent-carol')]);
    };
    await sealer2.append(Array.from({ length: 9 }, (_, i) => big(30 + i)));
    const after = branchEntries(repo);
    expect(jobIds(after).slice(11, 15)).toEqual(['stale', 'warm', 'sneaky', 'j30']);
    expect(after).toHaveLength(23);
    expect(verifyChain(after).ok).toBe(true);
  });

  it('reads an entry bigger than 1 MB through its blob (the contents API sends no content above 1 MB)', async () => {
    const s = store();
    const [huge] = await s.append([big(0, 1_200_000)]);
    expect(Buffer.byteLength(repo.filesAt()[TAIL_FILE])).toBeGreaterThan(1_000_000);
    resetRecordedCalls();
    const fresh = store();
    expect(await fresh.read()).toEqual([huge]);
    expect(recordedCalls()).toEqual([GET_CONTENTS, 'GET /repos/{owner}/{repo}/git/blobs/{file_sha}']);
    resetRecordedCalls();
    await fresh.append([dispatched('next', 'agent-alice')]); // the huge entry is sealed alone
    expect(recordedCalls()).toEqual(['GET /repos/{owner}/{repo}/git/ref/{ref}', 'GET /repos/{owner}/{repo}/git/commits/{commit_sha}', ...LIST, ...GIT_COMMIT]);
    expect(shardsOf(repo)).toEqual(['entries/000000.jsonl', TAIL_FILE]);
    expect(await store().read()).toHaveLength(2);
  });

  it('refuses extra files that would overwrite the ledger itself', async () => {
    await expect(store().append([dispatched('j1', 'a')], { 'entries/000000.jsonl': '' })).rejects.toThrow(/extra file "entries\/000000.jsonl" may not be/);
    await expect(store().append([], { '../x': '' })).rejects.toThrow(/contain "\.\."/);
    expect(repo.refs.size).toBe(0);
  });

  it('refuses to append on a branch with sealed shards but no tail.jsonl, saying how to repair it', async () => {
    await store().append([baseline('gpu-a10g', 20_000)]);
    const head = repo.refs.get('heads/ledger')!;
    const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
    // the layout before tail.jsonl: the last shard under its number, and a HEAD.json
    tree.set('entries/000000.jsonl', tree.get(TAIL_FILE)!);
    tree.delete(TAIL_FILE);
    tree.set('HEAD.json', repo.putBlob('{}'));
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [head], 'old layout'));
    const before = repo.refs.get('heads/ledger');
    await expect(store().append([dispatched('j1', 'a')])).rejects.toThrow(
      /has sealed shards but no entries\/tail.jsonl.*git mv entries\/000000.jsonl entries\/tail.jsonl && git rm -f --ignore-unmatch HEAD.json.*Nothing was appended/,
    );
    expect(repo.refs.get('heads/ledger')).toBe(before);
  });

  it('refuses to append on a branch deleted after it was read, or whose history was rewritten', async () => {
    await store().append([baseline('gpu-a10g', 20_000), dispatched('j1', 'a')]);
    let clock = 0;
    const seen = store({ now: () => clock });
    await seen.read();
    // rewritten: seq 1 replaced by another entry; the store held the old seq 1
    const entries = branchEntries(repo);
    const forged = appendEntries(entries.slice(0, 1), [dispatched('forged', 'mallory')]);
    const head = repo.refs.get('heads/ledger')!;
    const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
    tree.set(TAIL_FILE, repo.putBlob([entries[0], ...forged].map(entryLine).join('')));
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [head], 'rewrite'));
    clock += 15 * 60_000;
    await expect(seen.read()).rejects.toThrow(/broken at seq 1: hash is .* but the known head recorded .*rewritten \(this store read seq 1 earlier\)/);
    repo.refs.delete('heads/ledger');
    await expect(seen.append([dispatched('j2', 'a')])).rejects.toThrow(/was deleted after this store read it/);
    expect(repo.refs.size).toBe(0);
  });

  it("works with Probot's octokit (what the App hands it)", async () => {
    const probotOctokit = new ProbotOctokit({ auth: { token: 'ghs_test' }, log: quiet, retry: { enabled: false }, throttle: { enabled: false } });
    const s = new GitHubLedgerStore(probotOctokit, { owner: 'octo-org', repo: 'swarm', trustMs: 0 });
    await s.append([baseline('gpu-a10g', 20_000)]);
    await s.append([dispatched('j1', 'a')]);
    expect(await s.read()).toHaveLength(2);
    expect(await s.read()).toHaveLength(2);
    expect(s.notModified).toBe(1); // Probot's octokit surfaces the 304 the same way
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
