// Incremental builds: with the cache of the build now in the out dir, the next build verifies only
// the entries appended since, re-renders only the pages whose inputs changed, and ends with the
// same files, byte for byte, as a build from scratch. Anything it cannot trust makes it a full build
// that says why; a ledger whose verified part was altered builds nothing.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEntries, shardFiles, writeLedgerDir, type LedgerEntry } from '../../ledger/index.js';
import { buildSite } from '../../leaderboard/src/build.js';
import { PAGER_WINDOW as PER_WINDOW } from '../../leaderboard/src/pages/experiments-page.js';
import { sampleLedger } from '../../leaderboard/src/sample-ledger.js';

const NOW = new Date('2026-02-01T00:00:00Z');

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    if (statSync(join(dir, rel)).isFile()) out.set(rel, readFileSync(join(dir, rel)));
  }
  return out;
}

/** Paths whose bytes differ between two sites, or that only one of them has. */
function differences(a: string, b: string): string[] {
  const fa = files(a);
  const fb = files(b);
  const out: string[] = [];
  for (const [rel, bytes] of fa) if (!fb.get(rel)?.equals(bytes)) out.push(rel);
  for (const rel of fb.keys()) if (!fa.has(rel)) out.push(rel);
  return out.sort();
}

/** A sample ledger, and the index of its first verification: cut there, a claimed improvement is still pending. */
function ledger(experiments: number, curvePoints = 6) {
  const sample = sampleLedger({ experiments, curvePoints });
  const verification = sample.entries.findIndex((e) => e.type === 'verification');
  expect(verification).toBeGreaterThan(0);
  const claim = (sample.entries[verification] as LedgerEntry<'verification'>).data.job_id;
  const claimSeq = sample.entries.find((e) => e.type === 'result_recorded' && (e as LedgerEntry<'result_recorded'>).data.job_id === claim)!.seq;
  const root = mkdtempSync(join(tmpdir(), 'lb-inc-'));
  return { ...sample, cut: verification, claimSeq, root, dir: join(root, 'ledger') };
}

/** The ledger written up to `upTo` entries and built once with a cache: the state every test starts from. */
async function builtOnce(l: ReturnType<typeof ledger>, upTo = l.entries.length, perPage?: number) {
  writeLedgerDir(l.dir, l.entries.slice(0, upTo), l.files);
  const site = join(l.root, 'site');
  const cache = join(l.root, 'cache');
  const first = await buildSite(l.dir, site, { now: NOW, cacheDir: cache, perPage });
  return { site, cache, first };
}

describe('incremental leaderboard build', () => {
  it('after new entries, equals a build from scratch file for file, re-rendering only the pages that changed', async () => {
    // enough entries that the tail the first build read is sealed (renamed) before the second
    const l = ledger(250, 30);
    const { site, cache, first } = await builtOnce(l, l.cut);
    expect(shardFiles(l.dir)).toHaveLength(1);
    expect(first).toMatchObject({ mode: 'full', fullBecause: expect.stringContaining('holds no state of an earlier build') });
    expect(readFileSync(join(site, `experiments/${l.claimSeq}.html`), 'utf8')).toContain('<span class="status pending">pending</span>');

    // the rest of the ledger arrives: the claim's verification and merge, and later experiments
    writeLedgerDir(l.dir, l.entries, l.files);
    expect(shardFiles(l.dir).length).toBeGreaterThan(1);
    const second = await buildSite(l.dir, site, { now: NOW, cacheDir: cache });
    const fresh = join(l.root, 'fresh');
    const scratch = await buildSite(l.dir, fresh, { now: NOW });
    expect(second).toMatchObject({ mode: 'incremental', fullBecause: null, experiments: scratch.experiments, entries: l.entries.length, head: scratch.head, bytes: scratch.bytes });
    expect(differences(site, fresh)).toEqual([]);
    // the pending claim became merged: its page was rendered again, and so was the newest page of
    // the first build (its "next experiment" link now leads somewhere); untouched pages were kept
    expect(readFileSync(join(site, `experiments/${l.claimSeq}.html`), 'utf8')).toContain('<span class="status merged">merged</span>');
    const newPages = scratch.experiments - first.experiments;
    const results = l.entries.slice(0, l.cut).filter((e) => e.type === 'result_recorded' && (e as LedgerEntry<'result_recorded'>).data.role === 'candidate');
    const touched = new Set([l.claimSeq, results[results.length - 1].seq]).size;
    expect(second.rendered).toBe(newPages + touched);
    expect(second.kept).toBe(first.experiments - touched);
  });

  it('rewrites only the table and API pages whose rows changed: an old experiment verified later, and the newest page', async () => {
    const PER = 8;
    const l = ledger(60);
    const { site, cache, first } = await builtOnce(l, l.entries.length, PER);
    const pages = Math.ceil(first.experiments / PER);
    expect(pages).toBeGreaterThan(PER_WINDOW + 2);
    expect(first.tables).toEqual({ rendered: pages, kept: 0 });
    const before = files(site);
    // a later entry changes a row on page 1: a verification of its oldest experiment
    const oldest = l.entries.find((e) => e.type === 'result_recorded' && (e as LedgerEntry<'result_recorded'>).data.role === 'candidate') as LedgerEntry<'result_recorded'>;
    const last = l.entries[l.entries.length - 1];
    const verified = appendEntries(l.entries, [{ type: 'verification', data: { job_id: oldest.data.job_id, verify_job_id: 'verify-late', agreed: false, claim_bpb: 1.5, verify_bpb: 1.6, tolerance: 0.005 }, time: new Date(Date.parse(last.time) + 60_000).toISOString() }]);
    writeLedgerDir(l.dir, [...l.entries, ...verified], l.files);
    const second = await buildSite(l.dir, site, { now: NOW, cacheDir: cache, perPage: PER });
    const scratch = await buildSite(l.dir, join(l.root, 'fresh'), { now: NOW, perPage: PER });
    expect(differences(site, join(l.root, 'fresh'))).toEqual([]);
    expect(second).toMatchObject({ mode: 'incremental', rendered: 1, tables: { rendered: 1, kept: pages - 1 }, bytes: scratch.bytes });
    // page 1's table and API page changed; every other numbered page is the same file
    const after = files(site);
    const changed = [...after.keys()].filter((rel) => /page-\d+\.(html|json)$/.test(rel) && !before.get(rel)?.equals(after.get(rel)!)).sort();
    expect(changed).toEqual(['api/v1/experiments/page-1.json', 'experiments/page-1.html']);
    expect(after.get('experiments/page-1.html')!.toString()).toContain('disagreed (1.6000)');

    // new experiments fill the newest page and open new ones; pages further back are kept
    const more = sampleLedger({ experiments: 75, curvePoints: 6 });
    expect(more.entries.slice(0, l.entries.length).map((e) => e.hash)).toEqual(l.entries.map((e) => e.hash));
    const grown = [...l.entries, ...verified, ...appendEntries([...l.entries, ...verified], more.entries.slice(l.entries.length).map(({ type, data, time }) => ({ type, data, time })))];
    writeLedgerDir(l.dir, grown, { ...l.files, ...more.files });
    const third = await buildSite(l.dir, site, { now: NOW, cacheDir: cache, perPage: PER });
    const scratch3 = await buildSite(l.dir, join(l.root, 'fresh3'), { now: NOW, perPage: PER });
    expect(differences(site, join(l.root, 'fresh3'))).toEqual([]);
    const pages3 = Math.ceil(third.experiments / PER);
    expect(pages3).toBeGreaterThan(pages);
    // rendered: the old newest page and the new ones, and the pages whose pager window (PER_WINDOW
    // pages either side) reached the old newest but not beyond it: their pager gains links
    const expected = Math.min(PER_WINDOW - 1, pages - 1) + 1 + (pages3 - pages);
    expect(third).toMatchObject({ mode: 'incremental', tables: { rendered: expected, kept: pages3 - expected }, bytes: scratch3.bytes });
  });

  it('in a clean git checkout, pins verified shards by their git blob ids without reading them, and still refuses an altered one', async () => {
    const l = ledger(250, 30);
    const git = (...args: string[]) => execFileSync('git', ['-C', l.dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { stdio: 'pipe' });
    // a ledger of more than one shard: the sealed ones are verified whole, so the next build can pin them by blob id
    const upTo = l.entries.length - 5;
    writeLedgerDir(l.dir, l.entries.slice(0, upTo), l.files);
    expect(shardFiles(l.dir).length).toBeGreaterThan(1);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'ledger');
    const site = join(l.root, 'site');
    const cache = join(l.root, 'cache');
    await buildSite(l.dir, site, { now: NOW, cacheDir: cache });
    // the rest arrives as a commit
    writeLedgerDir(l.dir, l.entries, l.files);
    git('add', '-A');
    git('commit', '-qm', 'more');
    const second = await buildSite(l.dir, site, { now: NOW, cacheDir: cache });
    expect(second).toMatchObject({ mode: 'incremental', shardsPinnedByGit: shardFiles(l.dir).length - 1 });
    await buildSite(l.dir, join(l.root, 'fresh'), { now: NOW });
    expect(differences(site, join(l.root, 'fresh'))).toEqual([]);

    // a sealed shard altered in the work tree, same size (git status shows it), then committed: either way it is hashed, and refused
    const shard = join(l.dir, shardFiles(l.dir)[0].path);
    const lines = readFileSync(shard, 'utf8').split('\n');
    const i = lines.findIndex((x) => x.includes('"result_recorded"') && /"val_bpb":[0-9]\.[0-9]+/.test(x));
    const size = statSync(shard).size;
    lines[i] = lines[i].replace(/"val_bpb":([0-9.]+)/, (_, v: string) => `"val_bpb":${'1.'.padEnd(v.length, '9')}`);
    writeFileSync(shard, lines.join('\n'));
    expect(statSync(shard).size).toBe(size);
    const refused = new RegExp(`fails verification at seq ${JSON.parse(lines[i]).seq}: .*hash differs`);
    await expect(buildSite(l.dir, site, { now: NOW, cacheDir: cache })).rejects.toThrow(refused);
    git('commit', '-qam', 'rewrite history');
    await expect(buildSite(l.dir, site, { now: NOW, cacheDir: cache })).rejects.toThrow(refused);
  });

  it('with nothing new, rewrites only what shows the build time, and equals a build from scratch at that time', async () => {
    const l = ledger(40);
    const { site, cache } = await builtOnce(l);
    const later = new Date('2026-02-02T00:00:00Z');
    const again = await buildSite(l.dir, site, { now: later, cacheDir: cache });
    const scratch = await buildSite(l.dir, join(l.root, 'fresh'), { now: later });
    expect(again).toMatchObject({ mode: 'incremental', rendered: 0, kept: scratch.experiments, files: 2, bytes: scratch.bytes, entries: l.entries.length, head: scratch.head });
    expect(differences(site, join(l.root, 'fresh'))).toEqual([]);
    expect(readFileSync(join(site, 'api/v1/index.json'), 'utf8')).toContain(later.toISOString());
  });

  it('with nothing new, renders nothing, removes a file no build would write and restores a missing page', async () => {
    const l = ledger(40);
    const { site, cache } = await builtOnce(l);
    writeFileSync(join(site, 'experiments', '999999.html'), 'a page of an experiment that is gone');
    const again = await buildSite(l.dir, site, { now: NOW, cacheDir: cache });
    expect(again).toMatchObject({ mode: 'incremental', rendered: 0, removed: 1 });
    // a page that went missing from the kept site is rendered again
    const [lost] = readdirSync(join(site, 'experiments')).filter((f) => /^\d+\.html$/.test(f));
    rmSync(join(site, 'experiments', lost));
    await expect(buildSite(l.dir, site, { now: NOW, cacheDir: cache })).resolves.toMatchObject({ mode: 'incremental', rendered: 1, removed: 0 });
    await buildSite(l.dir, join(l.root, 'fresh'), { now: NOW });
    expect(differences(site, join(l.root, 'fresh'))).toEqual([]);
  });

  it('falls back to a full build, saying why, when the cache does not describe the out dir', async () => {
    const l = ledger(40);
    writeLedgerDir(l.dir, l.entries, l.files);
    const cache = join(l.root, 'cache');
    await buildSite(l.dir, join(l.root, 'a'), { now: NOW, cacheDir: cache });
    const other = await buildSite(l.dir, join(l.root, 'b'), { now: NOW, cacheDir: cache });
    expect(other).toMatchObject({ mode: 'full', fullBecause: expect.stringMatching(/is not the build the cache describes/) });
    // the cache now describes b
    await expect(buildSite(l.dir, join(l.root, 'b'), { now: NOW, cacheDir: cache })).resolves.toMatchObject({ mode: 'incremental' });
  });

  it('refuses a ledger whose already verified part was altered, and leaves the site as it was', async () => {
    const l = ledger(40);
    const { site, cache } = await builtOnce(l);
    const before = files(site);
    const shard = join(l.dir, shardFiles(l.dir)[0].path);
    const lines = readFileSync(shard, 'utf8').split('\n');
    const i = lines.findIndex((x) => x.includes('"result_recorded"') && /"val_bpb":[0-9.]+/.test(x));
    lines[i] = lines[i].replace(/"val_bpb":[0-9.]+/, '"val_bpb":1.0001');
    writeFileSync(shard, lines.join('\n'));
    await expect(buildSite(l.dir, site, { now: NOW, cacheDir: cache })).rejects.toThrow(new RegExp(`fails verification at seq ${JSON.parse(lines[i]).seq}: .*hash differs`));
    expect(differences(site, site)).toEqual([]);
    const after = files(site);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [rel, bytes] of before) expect(after.get(rel)?.equals(bytes)).toBe(true);
  });

  it('refuses new entries that do not continue the verified head', async () => {
    const l = ledger(40);
    const { site, cache } = await builtOnce(l, l.cut);
    // one appended entry's link is broken: its prev is not the hash of the entry before it
    const rest = l.entries.slice(l.cut).map((e, k) => (k === 1 ? { ...e, prev: '0'.repeat(64) } : e));
    writeLedgerDir(l.dir, [...l.entries.slice(0, l.cut), ...rest], l.files);
    await expect(buildSite(l.dir, site, { now: NOW, cacheDir: cache })).rejects.toThrow(new RegExp(`fails verification at seq ${l.entries[l.cut + 1].seq}: prev is 0{64}`));
  });
});
