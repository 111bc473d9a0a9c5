// The remote dataset for GPU runners: FineWeb-Edu parquet shards over HTTPS, read with
// hyparquet. Each shard is pinned by sha256 (trainer/data/pins.ts); downloads resume with HTTP
// Range into a `.partial` file and are renamed into the cache only after the hash matches, so a
// corrupt or substituted shard never reaches the cache. A cached shard is hashed again on every
// load, through the same open file the text is then read from: a file planted in the cache (by
// an earlier job's code, where isolation is none) is removed and downloaded again, never read.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import type { Dataset } from './dataset.js';
import { finewebDatasetName, PIN_FIX, type PinnedShard, type Shard } from './pins.js';

export { parsePins, pinsYaml, type PinnedShard, type Shard } from './pins.js';

const HF = 'https://huggingface.co/datasets/HuggingFaceFW/fineweb-edu/resolve/main/sample/10BT';

/**
 * The default shards `npm run pin-data` pins; the val shard is held out for evaluation. Official
 * windows are drawn from up to 256 MiB of its text by an eval seed fixed after the candidate, so
 * a candidate within the App's 64 KiB limit can carry (compressed, ~200 KB of text) about 0.1%
 * of the bytes it will be scored on: memorising buys under 0.005 bits per byte, below the
 * run-to-run noise. Runs use the pinned copy from the App's config (`--pins`), never this list.
 */
export const FINEWEB_EDU_SHARDS: Shard[] = [
  { id: '10BT/000_00000', url: `${HF}/000_00000.parquet`, sha256: null, split: 'train', maxTextBytes: 512 * 2 ** 20 },
  { id: '10BT/013_00000', url: `${HF}/013_00000.parquet`, sha256: null, split: 'val', maxTextBytes: 256 * 2 ** 20 },
];

export type Fetch = (url: string, init?: { headers?: Record<string, string> }) => Promise<Response>;

export interface PinnedReport {
  shard: PinnedShard;
  /** size of the parquet file */
  fileBytes: number;
  /** bytes of text a run keeps from it (at most its maxTextBytes) */
  textBytes: number;
}

/**
 * On a networked machine: download each shard, hash it, read it once as parquet (so a wrong URL
 * or a file without a `text` column fails here, not on every runner), and keep it in the cache
 * under its hash. Shards already carrying a sha256 are checked against it.
 */
export async function pinShards(shards: Shard[], cacheDir: string, fetchImpl: Fetch = fetch): Promise<PinnedReport[]> {
  mkdirSync(cacheDir, { recursive: true });
  const out: PinnedReport[] = [];
  for (const s of shards) {
    const tmp = join(cacheDir, `pin-${s.id.replace(/\W/g, '_')}.partial`);
    const res = await fetchImpl(s.url).catch((e: Error) => {
      throw new Error(`downloading shard ${s.id} from ${s.url} failed: ${e.message}; pinning needs the network.`);
    });
    if (!res.ok || !res.body) throw new Error(`downloading shard ${s.id} from ${s.url} failed: HTTP ${res.status}; check the URL.`);
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp));
    const fh = await open(tmp, 'r');
    try {
      const sha256 = await handleSha256(fh);
      if (s.sha256 && s.sha256 !== sha256) {
        throw new Error(`shard ${s.id} from ${s.url} now has sha256 ${sha256}, not the pinned ${s.sha256}: the file changed upstream. Pin it again without its old sha256 if that is expected.`);
      }
      const text = await readShardText(fh, s.maxTextBytes, `${s.id} (${s.url})`);
      if (text.length === 0) throw new Error(`shard ${s.id} from ${s.url} holds no text; pin a FineWeb-Edu parquet file with a "text" column.`);
      const pinned = { ...s, sha256 };
      out.push({ shard: pinned, fileBytes: (await fh.stat()).size, textBytes: text.length });
      renameSync(tmp, shardCachePath(cacheDir, pinned));
    } finally {
      await fh.close();
      rmSync(tmp, { force: true });
    }
  }
  return out;
}

async function handleSha256(fh: FileHandle): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fh.createReadStream({ start: 0, autoClose: false }), h);
  return h.digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    return await handleSha256(fh);
  } finally {
    await fh.close();
  }
}

export function shardCachePath(cacheDir: string, shard: Shard): string {
  return join(cacheDir, `${shard.sha256}.parquet`);
}

function requirePin(shard: Shard): asserts shard is PinnedShard {
  if (!shard.sha256 || !/^[0-9a-f]{64}$/.test(shard.sha256)) throw new Error(`shard ${shard.id} has no pinned sha256; ${PIN_FIX}, and run with --pins.`);
}

/** Download (or resume) one shard into the cache, verified against its pin, and return its path. */
export async function fetchShard(shard: Shard, cacheDir: string, fetchImpl: Fetch = fetch): Promise<string> {
  requirePin(shard);
  mkdirSync(cacheDir, { recursive: true });
  const final = shardCachePath(cacheDir, shard);
  if (existsSync(final)) return final; // renamed in only after its hash matched; openShard hashes it again
  const partial = `${final}.partial`;
  for (;;) {
    // resume only a plain file: a link or folder planted under the name is removed, never written through
    const kept = lstatSync(partial, { throwIfNoEntry: false });
    if (kept && !kept.isFile()) rmSync(partial, { force: true, recursive: true });
    const have = kept?.isFile() ? kept.size : 0;
    const res = await fetchImpl(shard.url, have > 0 ? { headers: { Range: `bytes=${have}-` } } : undefined).catch((e: Error) => {
      throw new Error(`downloading shard ${shard.id} from ${shard.url} failed: ${e.message}; check the network and run again (the download resumes).`);
    });
    if (res.status === 206) {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(partial, { flags: 'a' }));
    } else if (res.status === 200) {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(partial, { flags: 'w' }));
    } else if (res.status !== 416 || have === 0) {
      // 416: nothing left to fetch, the partial file is whole
      throw new Error(`downloading shard ${shard.id} from ${shard.url} failed: HTTP ${res.status}; check the shard's url in the pins.`);
    }
    const got = await fileSha256(partial);
    if (got === shard.sha256) break;
    rmSync(partial, { force: true });
    // the partial file this resumed (from an interrupted run, or planted by an earlier job's code)
    // held other bytes: download the whole shard once more, from nothing
    if (have > 0) continue;
    throw new Error(
      `shard ${shard.id} from ${shard.url} has sha256 ${got}, expected ${shard.sha256}: the download is corrupt or the server ` +
        'serves a different file. Nothing was cached; run again to retry, or re-pin the shard if it changed upstream.',
    );
  }
  renameSync(partial, final);
  return final;
}

/**
 * The shard's cached file, open, its content hashed through this very handle and equal to the
 * pin: what is read next is what was hashed, even if the path is replaced meanwhile. A cached
 * file that does not match (planted, or damaged on disk) is removed and downloaded once more.
 */
export async function openShard(shard: Shard, cacheDir: string, fetchImpl: Fetch = fetch): Promise<FileHandle> {
  requirePin(shard);
  for (let attempt = 0; ; attempt++) {
    const path = await fetchShard(shard, cacheDir, fetchImpl);
    const fh = await open(path, 'r');
    // a folder (or other non-file) planted under the name is no shard: removed like a wrong file
    const got = await (async () => ((await fh.stat()).isFile() ? handleSha256(fh) : 'not a file'))().catch(async (e: Error) => {
      await fh.close();
      throw e;
    });
    if (got === shard.sha256) return fh;
    await fh.close();
    rmSync(path, { force: true, recursive: true });
    if (attempt > 0) throw new Error(`shard ${shard.id}: the cached file ${path} has sha256 ${got}, expected ${shard.sha256}, even after a fresh download; something on this machine rewrites the cache (${cacheDir}).`);
  }
}

/** hyparquet reads through an open handle, by position, never by path. */
function handleBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number) {
      const len = (end ?? size) - start;
      const buf = Buffer.alloc(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await fh.read(buf, done, len - done, start + done);
        if (bytesRead === 0) throw new Error(`the file ended at ${start + done} of ${size} bytes`);
        done += bytesRead;
      }
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + len);
    },
  };
}

/** The `text` column of a shard as bytes, documents separated by a newline, up to maxBytes (read a row group at a time). */
export async function readShardText(fh: FileHandle, maxBytes: number, name: string): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let total = 0;
  try {
    const file = handleBuffer(fh, (await fh.stat()).size);
    const metadata = await parquetMetadataAsync(file);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const rows = (await parquetReadObjects({ file, metadata, columns: ['text'], rowStart, rowEnd })) as Record<string, unknown>[];
      rowStart = rowEnd;
      for (const row of rows) {
        if (typeof row.text !== 'string') throw new Error('column "text" must hold strings');
        const b = Buffer.from(`${row.text}\n`, 'utf8');
        if (total + b.length >= maxBytes) {
          parts.push(b.subarray(0, maxBytes - total));
          return new Uint8Array(Buffer.concat(parts, maxBytes));
        }
        parts.push(b);
        total += b.length;
      }
    }
  } catch (e) {
    throw new Error(`reading shard ${name} as parquet failed: ${(e as Error).message}; pin a FineWeb-Edu parquet file with a "text" column.`);
  }
  return new Uint8Array(Buffer.concat(parts, total));
}

export async function loadFineweb(cacheDir: string, shards: Shard[], fetchImpl: Fetch = fetch): Promise<Dataset> {
  const pinned = shards.map((s) => {
    requirePin(s);
    return s;
  });
  const splits: Record<'train' | 'val', Uint8Array[]> = { train: [], val: [] };
  for (const s of pinned) {
    const fh = await openShard(s, cacheDir, fetchImpl);
    try {
      splits[s.split].push(await readShardText(fh, s.maxTextBytes, s.id));
    } finally {
      await fh.close();
    }
  }
  const join_ = (xs: Uint8Array[]) => new Uint8Array(Buffer.concat(xs));
  const train = join_(splits.train);
  const val = join_(splits.val);
  if (train.length === 0 || val.length === 0) throw new Error('the fineweb shard list needs at least one train and one val shard.');
  return { name: finewebDatasetName(pinned), train, val };
}
