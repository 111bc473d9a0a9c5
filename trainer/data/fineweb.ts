// The remote dataset for GPU runners: FineWeb-Edu parquet shards over HTTPS, read with
// hyparquet. Each shard is pinned by sha256; downloads resume with HTTP Range into a
// `.partial` file and are renamed into the cache only after the hash matches, so a corrupt
// or substituted shard never reaches the cache.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type { Dataset } from './dataset.js';

export interface Shard {
  /** short stable name, recorded in the result's dataset field */
  id: string;
  url: string;
  /** lowercase hex; null until pinned with `tsx trainer/data/fineweb.ts --pin` */
  sha256: string | null;
  split: 'train' | 'val';
  /** bytes of text kept from this shard (the head, documents in file order) */
  maxTextBytes: number;
}

const HF = 'https://huggingface.co/datasets/HuggingFaceFW/fineweb-edu/resolve/main/sample/10BT';

/** The shards of `--data fineweb`. The last one is held out for evaluation. */
export const FINEWEB_EDU_SHARDS: Shard[] = [
  { id: '10BT/000_00000', url: `${HF}/000_00000.parquet`, sha256: null, split: 'train', maxTextBytes: 512 * 2 ** 20 },
  { id: '10BT/013_00000', url: `${HF}/013_00000.parquet`, sha256: null, split: 'val', maxTextBytes: 16 * 2 ** 20 },
];

export type Fetch = (url: string, init?: { headers?: Record<string, string> }) => Promise<Response>;

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

export function shardCachePath(cacheDir: string, shard: Shard): string {
  return join(cacheDir, `${shard.sha256}.parquet`);
}

/** Download (or resume) one shard into the cache and return its path. */
export async function fetchShard(shard: Shard, cacheDir: string, fetchImpl: Fetch = fetch): Promise<string> {
  if (!shard.sha256 || !/^[0-9a-f]{64}$/.test(shard.sha256)) {
    throw new Error(`shard ${shard.id} has no pinned sha256; run \`npx tsx trainer/data/fineweb.ts --pin\` on a machine with network access and commit the result.`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const final = shardCachePath(cacheDir, shard);
  if (existsSync(final)) return final; // only ever renamed in after its hash matched
  const partial = `${final}.partial`;
  const have = existsSync(partial) ? statSync(partial).size : 0;
  const res = await fetchImpl(shard.url, have > 0 ? { headers: { Range: `bytes=${have}-` } } : undefined).catch((e: Error) => {
    throw new Error(`downloading shard ${shard.id} from ${shard.url} failed: ${e.message}; check the network and run again (the download resumes).`);
  });
  if (res.status === 206) {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(partial, { flags: 'a' }));
  } else if (res.status === 200) {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(partial, { flags: 'w' }));
  } else if (res.status !== 416) {
    // 416: nothing left to fetch, the partial file is whole
    throw new Error(`downloading shard ${shard.id} from ${shard.url} failed: HTTP ${res.status}; check the URL in FINEWEB_EDU_SHARDS.`);
  }
  const got = await fileSha256(partial);
  if (got !== shard.sha256) {
    rmSync(partial, { force: true });
    throw new Error(
      `shard ${shard.id} from ${shard.url} has sha256 ${got}, expected ${shard.sha256}: the download is corrupt or the server ` +
        'serves a different file. Nothing was cached; run again to retry, or re-pin the shard if it changed upstream.',
    );
  }
  renameSync(partial, final);
  return final;
}

/** The `text` column of a shard as bytes, documents separated by a newline, up to maxBytes. */
export async function readShardText(path: string, maxBytes: number): Promise<Uint8Array> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file: await asyncBufferFromFile(path), columns: ['text'] })) as Record<string, unknown>[];
  } catch (e) {
    throw new Error(`reading ${path} as parquet failed: ${(e as Error).message}`);
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (const row of rows) {
    if (typeof row.text !== 'string') throw new Error(`${path}: column "text" must hold strings.`);
    const b = Buffer.from(`${row.text}\n`, 'utf8');
    if (total + b.length > maxBytes) {
      parts.push(b.subarray(0, maxBytes - total));
      total = maxBytes;
      break;
    }
    parts.push(b);
    total += b.length;
  }
  return new Uint8Array(Buffer.concat(parts, total));
}

export async function loadFineweb(cacheDir: string, shards: Shard[] = FINEWEB_EDU_SHARDS, fetchImpl: Fetch = fetch): Promise<Dataset> {
  const splits: Record<'train' | 'val', Uint8Array[]> = { train: [], val: [] };
  for (const s of shards) splits[s.split].push(await readShardText(await fetchShard(s, cacheDir, fetchImpl), s.maxTextBytes));
  const join_ = (xs: Uint8Array[]) => new Uint8Array(Buffer.concat(xs));
  const train = join_(splits.train);
  const val = join_(splits.val);
  if (train.length === 0 || val.length === 0) throw new Error('the fineweb shard list needs at least one train and one val shard.');
  return { name: `fineweb-edu:${shards.map((s) => s.id).join(',')}`, train, val };
}

/** `tsx trainer/data/fineweb.ts --pin`: download each shard once and print its sha256. */
async function pin(): Promise<void> {
  const dir = join(process.cwd(), '.cache', 'pin');
  mkdirSync(dir, { recursive: true });
  for (const s of FINEWEB_EDU_SHARDS) {
    const tmp = join(dir, `${s.id.replace(/\W/g, '_')}.parquet`);
    const res = await fetch(s.url);
    if (!res.ok || !res.body) throw new Error(`GET ${s.url}: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp));
    process.stdout.write(`${s.id}\t${await fileSha256(tmp)}\n`);
  }
  writeFileSync(join(dir, 'DONE'), '');
}

if (process.argv[1]?.endsWith('fineweb.ts') && process.argv.includes('--pin')) {
  pin().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  });
}
