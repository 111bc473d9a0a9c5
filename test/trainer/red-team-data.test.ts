// Red-team tests of the held-out data path (trainer/data/fineweb.ts): a runner's owner, or an
// earlier job's code where isolation is none, tries to make an official run score on bytes other
// than the pinned shards (a redirect, a truncated download, a planted partial file or cache
// entry), or to make the next official run fail. A loopback server; nothing leaves the machine.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { fetchShard, loadFineweb, shardCachePath, type Fetch, type PinnedShard } from '../../trainer/data/fineweb.js';

const parquet = (docs: string[]) => Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'text', data: docs, type: 'STRING' }] }));
const trainDocs = Array.from({ length: 200 }, (_, i) => `Train document ${i}: ${'y'.repeat(i % 40)}`);
const valDocs = ['Held-out: the pinned validation text.', 'A second held-out document.'];
const memorised = parquet(['aaaa aaaa aaaa aaaa']); // text a candidate could carry
const files: Record<string, Buffer> = { '/train.parquet': parquet(trainDocs), '/val.parquet': parquet(valDocs) };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    if (url === '/redirect-val.parquet') {
      res.writeHead(302, { location: '/memorised.parquet' }).end();
      return;
    }
    if (url === '/memorised.parquet') {
      res.writeHead(200, { 'content-length': memorised.length }).end(memorised);
      return;
    }
    if (url === '/truncated-val.parquet') {
      const body = files['/val.parquet'];
      res.writeHead(200); // no length: the connection just ends early
      res.end(body.subarray(0, body.length >> 1));
      return;
    }
    const body = files[url];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      if (from >= body.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` }).end(body.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const loopbackOnly: Fetch = (url, init) => {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`test tried to reach ${url}`);
  return fetch(url, init);
};
const pin = (path: string, split: 'train' | 'val', urlPath = path): PinnedShard => ({ id: path.slice(1), url: `${base}${urlPath}`, sha256: sha(files[path]), split, maxTextBytes: 1 << 20 });
const valText = valDocs.map((d) => `${d}\n`).join('');

describe('red team: the held-out shards', () => {
  it('refuses a pinned URL that redirects to other bytes, and caches nothing', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'rt-shards-'));
    const val = pin('/val.parquet', 'val', '/redirect-val.parquet');
    await expect(fetchShard(val, cache, loopbackOnly)).rejects.toThrow(/expected [0-9a-f]{64}/);
    expect(existsSync(shardCachePath(cache, val))).toBe(false);
  });

  it('refuses a truncated download, and caches nothing', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'rt-shards-'));
    const val = pin('/val.parquet', 'val', '/truncated-val.parquet');
    await expect(loadFineweb(cache, [pin('/train.parquet', 'train'), val], loopbackOnly)).rejects.toThrow(/sha256/);
    expect(existsSync(shardCachePath(cache, val))).toBe(false);
  });

  it('a planted partial download neither reaches the run nor fails it: the shard is fetched afresh', async () => {
    // Attack: an earlier job's code (isolation none) leaves `<sha>.parquet.partial` holding other
    // bytes; the next official run resumes from it (or, at full length, gets 416 and keeps it).
    for (const planted of [memorised, Buffer.alloc(files['/val.parquet'].length, 0x61)]) {
      const cache = mkdtempSync(join(tmpdir(), 'rt-shards-'));
      const pins = [pin('/train.parquet', 'train'), pin('/val.parquet', 'val')];
      writeFileSync(`${shardCachePath(cache, pins[1])}.partial`, planted);
      const ds = await loadFineweb(cache, pins, loopbackOnly);
      expect(Buffer.from(ds.val).toString('utf8')).toBe(valText);
      expect(readFileSync(shardCachePath(cache, pins[1]))).toEqual(files['/val.parquet']);
    }
  });

  it('a folder planted under the cached shard name does not fail every later run', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'rt-shards-'));
    const pins = [pin('/train.parquet', 'train'), pin('/val.parquet', 'val')];
    mkdirSync(shardCachePath(cache, pins[1]));
    writeFileSync(join(shardCachePath(cache, pins[1]), 'x'), 'planted');
    const ds = await loadFineweb(cache, pins, loopbackOnly);
    expect(Buffer.from(ds.val).toString('utf8')).toBe(valText);
  });

  it('will not load a shard whose pin is not a lowercase sha256, before any request', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'rt-shards-'));
    const val = pin('/val.parquet', 'val');
    const n = requests.length;
    for (const sha256 of [val.sha256.toUpperCase(), val.sha256.slice(1), ` ${val.sha256}`, '']) {
      await expect(loadFineweb(cache, [pin('/train.parquet', 'train'), { ...val, sha256 }], loopbackOnly)).rejects.toThrow(/no pinned sha256/);
    }
    expect(requests.length).toBe(n);
  });
});
