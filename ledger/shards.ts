// How the ledger lies in files on the `ledger` branch:
//   entries/000000.jsonl, entries/001000.jsonl, ...  one JSON entry per line, SHARD_SIZE seqs per file
//   HEAD.json                                        {seq, hash, time, shard} of the last entry
// A shard is rewritten whole on each append (git blobs are immutable), so its size bounds the
// bytes sent per append: 1,000 entries of ~1-5 KB keeps that to a few MB at most, while the
// number of files stays small (100 for 100,000 entries).
import { z } from 'zod';
import type { LedgerEntry } from './entries.js';

export const SHARD_SIZE = 1000;
export const ENTRIES_DIR = 'entries';
export const HEAD_FILE = 'HEAD.json';
const SHARD_NAME = /^entries\/(\d+)\.jsonl$/;

export function shardPath(seq: number): string {
  return `${ENTRIES_DIR}/${String(Math.floor(seq / SHARD_SIZE) * SHARD_SIZE).padStart(6, '0')}.jsonl`;
}

export interface HeadFile {
  seq: number;
  hash: string;
  time: string;
  shard: string;
}
const HeadFileSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/), time: z.string(), shard: z.string() });

export function headFileText(last: LedgerEntry): string {
  const head: HeadFile = { seq: last.seq, hash: last.hash, time: last.time, shard: shardPath(last.seq) };
  return JSON.stringify(head, null, 2) + '\n';
}

export function parseHeadFile(text: string, source = HEAD_FILE): HeadFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON (${(e as Error).message}); it must hold {seq, hash, time, shard} of the ledger's last entry.`);
  }
  const p = HeadFileSchema.safeParse(raw);
  if (!p.success) throw new Error(`${source}: ${p.error.issues[0].path.join('.') || '(root)'}: ${p.error.issues[0].message}; it must hold {seq, hash, time, shard} of the ledger's last entry.`);
  return p.data;
}

/** One stored line. Key order is fixed for readability; the hash does not depend on it. */
export function entryLine(e: LedgerEntry): string {
  return JSON.stringify({ seq: e.seq, time: e.time, type: e.type, data: e.data, prev: e.prev, hash: e.hash }) + '\n';
}

// Only the frame is checked here; each entry's data is checked by verifyChain with its type's schema.
const StoredEntry = z.object({
  seq: z.number().int().nonnegative(),
  time: z.string(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  prev: z.string(),
  hash: z.string(),
});

/**
 * Entries from shard files (any order; sorted by their first seq). Throws one error naming the
 * file and line of the first line that is not a ledger entry, or that sits in the wrong shard.
 */
export function parseLedgerText(shards: { path: string; text: string }[]): LedgerEntry[] {
  const named = shards.map((s) => {
    const m = SHARD_NAME.exec(s.path.replace(/\\/g, '/').replace(/^.*?(entries\/)/, '$1'));
    if (!m) throw new Error(`${s.path} is not a ledger shard: shards are named entries/<first seq, 6+ digits>.jsonl.`);
    return { ...s, start: Number(m[1]) };
  });
  named.sort((a, b) => a.start - b.start);
  const out: LedgerEntry[] = [];
  for (const s of named) {
    const lines = s.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, i) => {
      const where = `${s.path} line ${i + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new Error(`${where} is not valid JSON (${(e as Error).message}); each line must be one ledger entry.`);
      }
      const p = StoredEntry.safeParse(raw);
      if (!p.success) {
        const first = p.error.issues[0];
        throw new Error(`${where} is not a ledger entry: ${first.path.join('.') || '(root)'}: ${first.message}.`);
      }
      if (shardPath(p.data.seq) !== shardPath(s.start)) {
        throw new Error(`${where} holds seq ${p.data.seq}, which belongs in ${shardPath(p.data.seq)}: entries were moved between shards.`);
      }
      out.push(raw as LedgerEntry);
    });
  }
  return out;
}

/**
 * The shard files (and HEAD.json) to write after appending `added` to a ledger whose last shard
 * currently reads `tail` (null when the ledger is empty or `added` starts a new shard).
 */
export function shardWrites(tail: { path: string; text: string } | null, added: LedgerEntry[]): Record<string, string> {
  const files: Record<string, string> = {};
  if (tail) files[tail.path] = tail.text;
  for (const e of added) {
    const p = shardPath(e.seq);
    files[p] = (files[p] ?? '') + entryLine(e);
  }
  if (tail && files[tail.path] === tail.text) delete files[tail.path];
  if (added.length) files[HEAD_FILE] = headFileText(added[added.length - 1]);
  return files;
}

/** Every file of a ledger holding `entries` (shards and HEAD.json). */
export function ledgerFiles(entries: LedgerEntry[]): Record<string, string> {
  return shardWrites(null, entries);
}
