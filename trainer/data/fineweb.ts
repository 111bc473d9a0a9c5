// The remote dataset for GPU runners: FineWeb-Edu parquet shards over HTTPS, read with
// hyparquet. Each shard is pinned by sha256; downloads resume with HTTP Range into a
// `.partial` file and are renamed into the cache only after the hash matches, so a corrupt
// or substituted shard never reaches the cache.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
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

/**
 * The shards of `--data fineweb`; the val shard is held out for evaluation. Official windows
 * are drawn from up to 256 MiB of its text by an eval seed fixed after the candidate, so a
 * candidate within the App's 64 KiB limit can carry (compressed, ~200 KB of text) about 0.1%
 * of the bytes it will be scored on: memorising buys under 0.005 bits per byte, below the
 * run-to-run noise. Pins: `tsx trainer/data/fineweb.ts --pin` on a networked machine.
 */
export const FINEWEB_EDU_SHARDS: Shard[] = [
  { id: '10BT/000_00000', url: `${HF}/000_00000.parquet`, sha256: null, split: 'train', maxTextBytes: 512 * 2 ** 20 },
  { id: '10BT/013_00000', url: `${HF}/013_00000.parquet`, sha256: null, split: 'val', maxTextBytes: 256 * 2 ** 20 },
];

const PinnedShard = z.object({
  id: z.string().regex(/^[\w./-]{1,100}$/, 'letters, digits, "_", ".", "/" and "-"'),
  url: z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256'),
  split: z.enum(['train', 'val']),
  max_text_bytes: z.number().int().positive(),
});
/** The pins file an operator ships (the App's config carries the same list as `fineweb_shards`). */
export const PinsFile = z.object({ fineweb_shards: z.array(PinnedShard).min(2) });

/** The YAML block `--pin` prints: paste it into .github/autoresearch.yml, or pass it as --pins. */
export function pinsYaml(shards: Shard[]): string {
  return toYaml({ fineweb_shards: shards.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256, split: s.split, max_text_bytes: s.maxTextBytes })) });
}

/** Shards from a pins file (YAML or JSON); one error naming the first thing wrong. */
export function parsePins(text: string, source: string): Shard[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new Error(`${source} is not YAML or JSON (${(e as Error).message}); write it with \`tsx trainer/data/fineweb.ts --pin\`.`);
  }
  const got = PinsFile.safeParse(raw);
  if (!got.success) {
    const first = got.error.issues[0];
    throw new Error(`${source}: ${first.path.join('.') || '(root)'}: ${first.message}; write it with \`tsx trainer/data/fineweb.ts --pin\`.`);
  }
  const shards = got.data.fineweb_shards.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256, split: s.split, maxTextBytes: s.max_text_bytes }));
  if (!shards.some((s) => s.split === 'train') || !shards.some((s) => s.split === 'val')) throw new Error(`${source}: fineweb_shards needs at least one train and one val shard.`);
  return shards;
}

/** On a networked machine: download each shard, hash it, keep it in the cache under its hash. */
export async function pinShards(shards: Shard[], cacheDir: string, fetchImpl: Fetch = fetch): Promise<Shard[]> {
  mkdirSync(cacheDir, { recursive: true });
  const out: Shard[] = [];
  for (const s of shards) {
    const tmp = join(cacheDir, `pin-${s.id.replace(/\W/g, '_')}.partial`);
    const res = await fetchImpl(s.url).catch((e: Error) => {
      throw new Error(`downloading shard ${s.id} from ${s.url} failed: ${e.message}; pinning needs the network.`);
    });
    if (!res.ok || !res.body) throw new Error(`downloading shard ${s.id} from ${s.url} failed: HTTP ${res.status}; check the URL.`);
    await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp));
    const pinned = { ...s, sha256: await fileSha256(tmp) };
    renameSync(tmp, shardCachePath(cacheDir, pinned));
    out.push(pinned);
  }
  return out;
}

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

/** `tsx trainer/data/fineweb.ts --pin [--cache-dir <dir>]`: download, hash and print the pins. */
if (process.argv[1]?.endsWith('fineweb.ts') && process.argv.includes('--pin')) {
  const i = process.argv.indexOf('--cache-dir');
  const dir = i > 0 ? process.argv[i + 1] : join(process.cwd(), '.cache', 'data');
  pinShards(FINEWEB_EDU_SHARDS, dir).then(
    (pinned) => process.stdout.write(pinsYaml(pinned)),
    (e: Error) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    },
  );
}
