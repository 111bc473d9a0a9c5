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
import { fetchShard, loadFineweb, shardCachePath, type Fetch, type Shard } from '../../trainer/data/fineweb.js';

const trainDocs = Array.from({ length: 400 }, (_, i) => `Document ${i}: photosynthesis turns light into chemical energy. ${'x'.repeat(i % 50)}`);
const valDocs = ['The mitochondria is the powerhouse of the cell.', 'Évaluation: non-ASCII text stays UTF-8.'];
const parquet = (docs: string[]) => Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: docs, type: 'STRING' }] }));
const files: Record<string, Buffer> = { '/train.parquet': parquet(trainDocs), '/val.parquet': parquet(valDocs) };
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

const shard = (path: string, split: 'train' | 'val', over: Partial<Shard> = {}): Shard => ({
  id: path.slice(1),
  url: `${base}${path}`,
  sha256: sha(files[path]),
  split,
  maxTextBytes: 1 << 20,
  ...over,
});

describe('remote parquet dataset', () => {
  it('downloads, verifies, caches and reads the text column as bytes', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'shards-'));
    const ds = await loadFineweb(cache, [shard('/train.parquet', 'train'), shard('/val.parquet', 'val')], loopbackOnly);
    expect(Buffer.from(ds.train).toString('utf8')).toBe(trainDocs.map((d) => `${d}\n`).join(''));
    expect(Buffer.from(ds.val).toString('utf8')).toBe(valDocs.map((d) => `${d}\n`).join(''));
    expect(ds.name).toBe('fineweb-edu:train.parquet,val.parquet');
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
});
