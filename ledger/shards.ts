// How the ledger lies in files on the `ledger` branch:
//   entries/000000.jsonl, entries/000412.jsonl, ...  one JSON entry per line; each file is named
//                                                   by the seq of its first entry
//   HEAD.json                                        {seq, hash, time, shard} of the last entry
// A shard is rewritten whole on each append (git blobs are immutable), so its size bounds the
// bytes sent per append. Entries range from ~300 B (a runner registered) to ~15 KB (a result
// with its 256-point loss curve), so shards are cut by bytes, not by count: a new shard starts
// when the next line would take the current one past SHARD_MAX_BYTES.
import { z } from 'zod';
import type { LedgerEntry } from './entries.js';

export const SHARD_MAX_BYTES = 1024 * 1024;
export const ENTRIES_DIR = 'entries';
export const HEAD_FILE = 'HEAD.json';
const SHARD_NAME = /^entries\/(\d+)\.jsonl$/;

/** The name of a shard whose first entry has this seq. */
export function shardName(firstSeq: number): string {
  return `${ENTRIES_DIR}/${String(firstSeq).padStart(6, '0')}.jsonl`;
}

/** Where parseLedgerText found each entry (file and 1-based line), for messages that point at it. */
const locations = new WeakMap<object, string>();
export function entryLocation(e: LedgerEntry): string | null {
  return locations.get(e) ?? null;
}

export interface HeadFile {
  seq: number;
  hash: string;
  time: string;
  shard: string;
}
const HeadFileSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/), time: z.string(), shard: z.string().regex(SHARD_NAME) });

export function headFileText(last: LedgerEntry, shard: string): string {
  const head: HeadFile = { seq: last.seq, hash: last.hash, time: last.time, shard };
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

/** Why a parsed line is not an entry's frame, or null. Each entry's data is checked later by verifyChain with its type's schema. */
function frameProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'it is not a JSON object';
  const o = v as Record<string, unknown>;
  if (!Number.isInteger(o.seq) || (o.seq as number) < 0) return 'seq must be a non-negative integer';
  for (const k of ['time', 'type', 'prev', 'hash']) if (typeof o[k] !== 'string') return `${k} must be a string`;
  if (!o.data || typeof o.data !== 'object' || Array.isArray(o.data)) return 'data must be an object';
  return null;
}

/**
 * Entries from shard files (any order; sorted by their first seq). Throws one error naming the
 * file and line of the first line that is not a ledger entry, or of a shard whose name is not
 * the seq of its first entry (entries moved between files).
 */
export function parseLedgerText(shards: { path: string; text: string }[]): LedgerEntry[] {
  const named = shards.map((s) => ({ ...s, start: shardStart(s.path) }));
  named.sort((a, b) => a.start - b.start);
  return named.flatMap((s) => parseShard(s.path, s.text).entries);
}

function shardStart(path: string): number {
  const m = SHARD_NAME.exec(path.replace(/\\/g, '/').replace(/^.*?(entries\/)/, '$1'));
  if (!m) throw new Error(`${path} is not a ledger shard: shards are named entries/<seq of their first entry>.jsonl.`);
  return Number(m[1]);
}

/** One shard's entries and the stored line of each (same index). Throws like parseLedgerText. */
export function parseShard(path: string, text: string): { entries: LedgerEntry[]; lines: string[] } {
  const start = shardStart(path);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const entries = lines.map((line, i) => {
    const where = `${path} line ${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where} is not valid JSON (${(e as Error).message}); each line must be one ledger entry.`);
    }
    const frame = frameProblem(raw);
    if (frame) throw new Error(`${where} is not a ledger entry: ${frame}.`);
    const seq = (raw as LedgerEntry).seq;
    if (i === 0 && seq !== start) {
      throw new Error(`${where} holds seq ${seq}, but a shard named ${path} must start at seq ${start}: entries were moved, removed or renamed.`);
    }
    locations.set(raw as object, where);
    return raw as LedgerEntry;
  });
  return { entries, lines };
}

/**
 * The shard files and HEAD.json to write after appending `added` to a ledger whose last shard
 * currently reads `tail` (null for an empty ledger), and the new last shard.
 */
export function shardWrites(
  tail: { path: string; text: string } | null,
  added: LedgerEntry[],
): { files: Record<string, string>; tail: { path: string; text: string } | null } {
  const files: Record<string, string> = {};
  let cur = tail ? { path: tail.path, text: tail.text, bytes: Buffer.byteLength(tail.text), changed: false } : null;
  const flush = () => {
    if (cur?.changed) files[cur.path] = cur.text;
  };
  for (const e of added) {
    const line = entryLine(e);
    const bytes = Buffer.byteLength(line);
    if (!cur || (cur.bytes > 0 && cur.bytes + bytes > SHARD_MAX_BYTES)) {
      flush();
      cur = { path: shardName(e.seq), text: '', bytes: 0, changed: true };
    }
    cur.text += line;
    cur.bytes += bytes;
    cur.changed = true;
  }
  flush();
  if (added.length && cur) files[HEAD_FILE] = headFileText(added[added.length - 1], cur.path);
  return { files, tail: cur ? { path: cur.path, text: cur.text } : null };
}

/** Every file of a ledger holding `entries` (shards and HEAD.json). */
export function ledgerFiles(entries: LedgerEntry[]): Record<string, string> {
  return shardWrites(null, entries).files;
}
