// The remote (FineWeb-Edu style) loader against a loopback HTTP server that serves a parquet
// file this test writes with hyparquet-writer, with real Range support. Every request goes
// through `loopbackOnly`, so nothing leaves the machine. A real server rather than nock: the
// loader's Range requests and its checks meet a real HTTP stack.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { fetchShard, loadFineweb, parsePins, pinShards, pinsYaml, shardCachePath, type Fetch, type PinnedShard, type Shard } from '../../trainer/data/fineweb.js';
import { main as pinData } from '../../trainer/data/pin-data.js';
import { finewebDatasetName } from '../../trainer/data/pins.js';

const trainDocs = Array.from({ length: 400 }, (_, i) => `Document ${i}: photosynthesis turns light into chemical energy. ${'x'.repeat(i % 50)}`);
const valDocs = ['The mitochondria is the powerhouse of the cell.', 'Évaluation: non-ASCII text stays UTF-8.'];
const parquet = (docs: string[]) => Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: docs, type: 'STRING' }] }));
// what an attacker would rather be scored on: text it can carry in a 64 KiB file
const memorisedDocs = ['aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa'];
const files: Record<string, Buffer> = { '/train.parquet': parquet(trainDocs), '/val.parquet': parquet(valDocs), '/other.parquet': parquet(memorisedDocs), '/not-parquet.parquet': Buffer.from('<html>Not Found</html>') };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base = '';
const requests: { path: string; range: string | undefined }[] = [];
let corruptNext = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    let served = body;
    if (corruptNext) {
      served = Buffer.from(body);
      served[100] ^= 0xff; // one flipped byte in transit
      corruptNext = false;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      if (from >= served.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${from}-${served.length - 1}/${served.length}`, 'content-length': served.length - from });
      res.end(served.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': served.length }).end(served);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections(); // fetch keeps connections alive; close() alone would wait for them
  await new Promise<void>((r) => server.close(() => r()));
});

const loopbackOnly: Fetch = (url, init) => {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`test tried to reach ${url}`);
  return fetch(url, init);
};

const shard = (path: string, split: 'train' | 'val', over: Partial<Shard> = {}): PinnedShard => ({
  id: path.slice(1),
  url: `${base}${path}`,
  sha256: sha(files[path]),
  split,
  maxTextBytes: 1 << 20,
  ...over,
} as PinnedShard);

describe('remote parquet dataset', () => {
  it('downloads, verifies, caches and reads the text column as bytes', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    const ds = await loadFineweb(cache, [shard('/train.parquet', 'train'), shard('/val.parquet', 'val')], loopbackOnly);
    expect(Buffer.from(ds.train).toString('utf8')).toBe(trainDocs.map((d) => `${d}\n`).join(''));
    expect(Buffer.from(ds.val).toString('utf8')).toBe(valDocs.map((d) => `${d}\n`).join(''));
    // the name binds the result to these exact pins: ids, then 16 hex digits of their digest
    expect(ds.name).toMatch(/^fineweb-edu:train\.parquet,val\.parquet#[0-9a-f]{16}$/);
    expect(ds.name).toBe(finewebDatasetName([shard('/train.parquet', 'train'), shard('/val.parquet', 'val')]));
    expect(ds.name).not.toBe(finewebDatasetName([shard('/train.parquet', 'train'), shard('/val.parquet', 'val', { maxTextBytes: 10 })]));
    // a second load is served from the cache: no new request
    const before = requests.length;
    await loadFineweb(cache, [shard('/train.parquet', 'train'), shard('/val.parquet', 'val')], loopbackOnly);
    expect(requests.length).toBe(before);
  });

  it('refuses a corrupted shard with a clear error and leaves the cache clean', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    corruptNext = true;
    const s = shard('/train.parquet', 'train');
    await expect(fetchShard(s, cache, loopbackOnly)).rejects.toThrow(
      new RegExp(`shard train.parquet from ${base}/train.parquet has sha256 [0-9a-f]{64}, expected ${s.sha256}.*Nothing was cached`),
    );
    expect(readdirSync(cache)).toEqual([]);
    // the next try downloads the good file
    expect(readFileSync(await fetchShard(s, cache, loopbackOnly))).toEqual(files['/train.parquet']);
  });

  it('refuses a shard whose pin does not match what the server serves', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    const s = shard('/train.parquet', 'train', { sha256: 'ab'.repeat(32) });
    await expect(fetchShard(s, cache, loopbackOnly)).rejects.toThrow(/expected abab.*Nothing was cached/);
    expect(existsSync(shardCachePath(cache, s))).toBe(false);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    const s = shard('/train.parquet', 'train');
    const half = Math.floor(files['/train.parquet'].length / 2);
    writeFileSync(`${shardCachePath(cache, s)}.partial`, files['/train.parquet'].subarray(0, half));
    const n = requests.length;
    const path = await fetchShard(s, cache, loopbackOnly);
    expect(requests.slice(n)).toEqual([{ path: '/train.parquet', range: `bytes=${half}-` }]);
    expect(readFileSync(path)).toEqual(files['/train.parquet']);
    expect(readdirSync(cache)).toEqual([`${s.sha256}.parquet`]);
  });

  it('says how to pin a shard that has no sha256', async () => {
    await expect(fetchShard(shard('/val.parquet', 'val', { sha256: null }), tmpdir(), loopbackOnly)).rejects.toThrow(/no pinned sha256.*--pin/);
  });

  it('names the URL and status when the server refuses', async () => {
    const s = { ...shard('/train.parquet', 'train'), url: `${base}/missing.parquet` };
    await expect(fetchShard(s, mkdtempSync(join(tmpdir(), 'shards-')), loopbackOnly)).rejects.toThrow(/missing\.parquet failed: HTTP 404/);
  });

  it('pins shards on a networked machine, and a run elsewhere loads them from the pins file alone', async () => {
    // the operator's side: download and hash; the printed YAML goes into the App's config
    const unpinned = [shard('/train.parquet', 'train', { sha256: null }), shard('/val.parquet', 'val', { sha256: null })];
    const reports = await pinShards(unpinned, mkdtempSync(join(tmpdir(), 'pin-')), loopbackOnly);
    const pinned = reports.map((r) => r.shard);
    expect(pinned.map((p) => p.sha256)).toEqual([sha(files['/train.parquet']), sha(files['/val.parquet'])]);
    expect(reports.map((r) => r.textBytes)).toEqual([Buffer.byteLength(trainDocs.map((d) => `${d}\n`).join('')), Buffer.byteLength(valDocs.map((d) => `${d}\n`).join(''))]);
    const yaml = pinsYaml(pinned);
    expect(yaml).toMatch(/^fineweb_shards:\n {2}- id: train.parquet\n/);
    // a runner's side: a fresh cache, the shards from the pins
    const ds = await loadFineweb(mkdtempSync(join(tmpdir(), 'shards-')), parsePins(yaml, 'pins.yml'), loopbackOnly);
    expect(Buffer.from(ds.val).toString('utf8')).toBe(valDocs.map((d) => `${d}\n`).join(''));
  });

  it('refuses a pins file with one clear error', () => {
    expect(() => parsePins('fineweb_shards: [', 'pins.yml')).toThrow(/pins.yml is not YAML or JSON/);
    const one = { id: 'a', url: 'https://example.org/a.parquet', sha256: 'ab'.repeat(32), split: 'train', max_text_bytes: 10 };
    const val = { ...one, id: 'b', sha256: 'cd'.repeat(32), split: 'val' };
    expect(() => parsePins(JSON.stringify({ fineweb_shards: [one, { ...val, sha256: 'XYZ' }] }), 'pins.yml')).toThrow(
      /^pins.yml: fineweb_shards.1.sha256 must be the sha256 of the shard file, 64 lowercase hex digits; write the block with `npm run pin-data -- --config .github\/autoresearch.yml`/,
    );
    expect(() => parsePins(JSON.stringify({ fineweb_shards: [one, { ...one, id: 'a2' }] }), 'pins.yml')).toThrow(/at least one train and one val shard/);
    // the same file as train and val would train on the held-out text
    expect(() => parsePins(JSON.stringify({ fineweb_shards: [one, { ...val, sha256: one.sha256 }] }), 'pins.yml')).toThrow(/fineweb_shards.1.sha256 is the same file as shard 0 \(a\)/);
    expect(() => parsePins(JSON.stringify({ fineweb_shards: [one, { ...val, id: 'a' }] }), 'pins.yml')).toThrow(/fineweb_shards.1.id repeats the id a/);
  });
  it('refuses a shard planted in the cache under the pinned name, and reads the pinned text instead', async () => {
    // Attack: where children run as the runner's user (isolation none), a candidate can write the
    // runner's cache; it replaces the val shard with text it carries, for the next run to score on.
    // Before the cache was hashed on load, the planted file was read as the held-out split.
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    const pins = [shard('/train.parquet', 'train'), shard('/val.parquet', 'val')];
    await loadFineweb(cache, pins, loopbackOnly);
    writeFileSync(shardCachePath(cache, pins[1]), files['/other.parquet']);
    const n = requests.length;
    const ds = await loadFineweb(cache, pins, loopbackOnly);
    expect(Buffer.from(ds.val).toString('utf8')).toBe(valDocs.map((d) => `${d}\n`).join(''));
    expect(requests.slice(n).map((r) => r.path)).toEqual(['/val.parquet']); // downloaded again, verified
    expect(readFileSync(shardCachePath(cache, pins[1]))).toEqual(files['/val.parquet']);
  });

  it('pin-data: pins, reads each shard as parquet, and writes the block into the config, keeping its comments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pin-data-'));
    writeFileSync(join(dir, 'shards.yml'), `fineweb_shards:\n  - { id: t, url: "${base}/train.parquet", split: train, max_text_bytes: 1000 }\n  - { id: v, url: "${base}/val.parquet", split: val, max_text_bytes: 1000 }\n`);
    writeFileSync(join(dir, 'autoresearch.yml'), '# the App settings\nbudget_seconds: 300 # five minutes\nfineweb_shards: []\n');
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), fetchImpl: loopbackOnly, cwd: dir };
    expect(await pinData(['--shards', 'shards.yml', '--config', 'autoresearch.yml', '--cache-dir', 'cache'], io)).toBe(0);
    const text = readFileSync(join(dir, 'autoresearch.yml'), 'utf8');
    expect(text).toMatch(/^# the App settings\nbudget_seconds: 300 # five minutes\nfineweb_shards:\n/);
    const pins = parsePins(text, 'autoresearch.yml');
    expect(pins.map((p) => [p.id, p.split, p.sha256])).toEqual([['t', 'train', sha(files['/train.parquet'])], ['v', 'val', sha(files['/val.parquet'])]]);
    expect(err.join('')).toMatch(/pinned val shard v: sha256 [0-9a-f]{64}, 0\.0 MiB, 0\.0 MiB of text kept/);
    // the shards are cached under their hashes: a run here needs no second download
    expect(readdirSync(join(dir, 'cache')).sort()).toEqual([`${sha(files['/train.parquet'])}.parquet`, `${sha(files['/val.parquet'])}.parquet`].sort());
    // without --config it prints the block
    expect(await pinData(['--shards', 'shards.yml', '--cache-dir', 'cache'], io)).toBe(0);
    expect(parsePins(out.join(''), 'stdout')).toEqual(pins);
  });

  it('pin-data: refuses a URL that is not parquet, and a shard that changed since it was pinned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pin-data-'));
    const err: string[] = [];
    const io = { out: () => undefined, err: (s: string) => err.push(s), fetchImpl: loopbackOnly, cwd: dir };
    writeFileSync(join(dir, 'bad.yml'), `fineweb_shards:\n  - { id: t, url: "${base}/not-parquet.parquet", split: train, max_text_bytes: 1000 }\n`);
    expect(await pinData(['--shards', 'bad.yml'], io)).toBe(1);
    expect(err.join('')).toMatch(/reading shard t .*not-parquet\.parquet.* as parquet failed: .*pin a FineWeb-Edu parquet file with a "text" column/);
    err.length = 0;
    writeFileSync(join(dir, 'changed.yml'), `fineweb_shards:\n  - { id: v, url: "${base}/val.parquet", split: val, max_text_bytes: 1000, sha256: "${'ab'.repeat(32)}" }\n`);
    expect(await pinData(['--shards', 'changed.yml'], io)).toBe(1);
    expect(err.join('')).toMatch(/shard v from .* now has sha256 [0-9a-f]{64}, not the pinned abab/);
    err.length = 0;
    writeFileSync(join(dir, 'one.yml'), `fineweb_shards:\n  - { id: v, url: "${base}/val.parquet", split: val, max_text_bytes: 1000 }\n`);
    expect(await pinData(['--shards', 'one.yml'], io)).toBe(1);
    expect(err.join('')).toMatch(/fineweb_shards needs at least one train and one val shard/);
    err.length = 0;
    expect(await pinData(['--shards', 'missing-key.yml'], io)).toBe(2);
  });
});
