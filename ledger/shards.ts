// How the ledger lies in files on the `ledger` branch:
//   entries/000000.jsonl, entries/000412.jsonl, ...  sealed shards: one JSON entry per line, each
//                                                   named by the seq of its first entry; never
//                                                   rewritten once sealed
//   entries/tail.jsonl                               the active shard: the entries after the last
//                                                   sealed one (its first entry has the next seq)
// Every append rewrites tail.jsonl, so its blob sha names the whole chain's state: the GitHub
// store appends with one compare-and-swap on that file (contents API, `sha` = the tail it read).
// A git blob cannot be appended to, so the tail's size bounds the bytes sent per append. Entries
// range from ~300 B (a runner registered) to ~15 KB (a result with its loss curve), so the tail
// is sealed by bytes, not by count: when the next line would take it past SHARD_MAX_BYTES, it is
// renamed to its first seq and a new tail starts. 128 KiB (900 KiB until session 11): an append
// uploads 64 KiB on average instead of 450, which was most of the simulator's time (1,000 PRs in
// ~100 s: most of it serialising and decoding the tail); readers list the shards through git
// trees, which, unlike the contents API's 1,000 files, lists them all (~2,900 at 100,000 entries).
import type { LedgerEntry } from './entries.js';

export const SHARD_MAX_BYTES = 128 * 1024;
export const ENTRIES_DIR = 'entries';
export const TAIL_FILE = `${ENTRIES_DIR}/tail.jsonl`;
/** The head file of the layout before tail.jsonl: not written any more, and reserved (the App may not write a file there) so that an old reader cannot be misled by one. */
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
 * Entries from shard files (any order: sealed shards by their first seq, then tail.jsonl).
 * Throws one error naming the file and line of the first line that is not a ledger entry, or of
 * a sealed shard whose name is not the seq of its first entry (entries moved between files).
 */
export function parseLedgerText(shards: { path: string; text: string }[]): LedgerEntry[] {
  const named = shards.map((s) => ({ ...s, start: shardStart(s.path) ?? Infinity }));
  named.sort((a, b) => a.start - b.start);
  return named.flatMap((s) => parseShard(s.path, s.text).entries);
}

const normal = (path: string) => path.replace(/\\/g, '/').replace(/^.*?(entries\/)/, '$1');

/** Whether a path (relative, or ending in entries/...) is the active shard. */
export function isTail(path: string): boolean {
  return normal(path) === TAIL_FILE;
}

/** The first seq a sealed shard is named for; null for tail.jsonl, whose first seq follows the sealed ones. */
export function shardStart(path: string): number | null {
  if (isTail(path)) return null;
  const m = SHARD_NAME.exec(normal(path));
  if (!m) throw new Error(`${path} is not a ledger shard: shards are named entries/<seq of their first entry>.jsonl, and the last one entries/tail.jsonl.`);
  return Number(m[1]);
}

/**
 * One shard's entries and the stored line of each (same index). Throws like parseLedgerText.
 * `firstLine`: the line number of `text`'s first line in the file (when parsing lines appended
 * to a tail already read), for messages that point at the right line.
 */
export function parseShard(path: string, text: string, firstLine = 1): { entries: LedgerEntry[]; lines: string[] } {
  const start = firstLine === 1 ? shardStart(path) : null;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const entries = lines.map((line, i) => {
    const where = `${path} line ${firstLine + i}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where} is not valid JSON (${(e as Error).message}); each line must be one ledger entry.`);
    }
    const frame = frameProblem(raw);
    if (frame) throw new Error(`${where} is not a ledger entry: ${frame}.`);
    const seq = (raw as LedgerEntry).seq;
    if (i === 0 && start !== null && seq !== start) {
      throw new Error(`${where} holds seq ${seq}, but a shard named ${path} must start at seq ${start}: entries were moved, removed or renamed.`);
    }
    locations.set(raw as object, where);
    return raw as LedgerEntry;
  });
  return { entries, lines };
}

/** Why a checkout or branch with sealed shards but no tail.jsonl cannot be read, and how to repair it. */
export function missingTail(where: string, lastShard: string): string {
  return (
    `${where} has sealed shards but no ${TAIL_FILE}, so where the ledger ends is unknown (the layout before tail.jsonl, or a broken branch). ` +
    `If ${lastShard} is the last shard, in a checkout run: git mv ${lastShard} ${TAIL_FILE} && git rm -f --ignore-unmatch ${HEAD_FILE}, ` +
    `then \`npm run ledger -- verify .\`, commit and push to the ledger branch.`
  );
}

/** tail.jsonl as a writer holds it: its text and the seq of its first entry. */
export interface Tail {
  first: number;
  text: string;
}

/**
 * The files to write after appending `added` to a ledger whose tail.jsonl currently reads `tail`
 * (null for an empty ledger): tail.jsonl, and a sealed shard for each tail that filled up on the
 * way (`sealed` lists their paths); and the new tail.
 */
export function shardWrites(tail: Tail | null, added: LedgerEntry[]): { files: Record<string, string>; tail: Tail | null; sealed: string[] } {
  const files: Record<string, string> = {};
  const sealed: string[] = [];
  let cur = tail ? { ...tail, bytes: Buffer.byteLength(tail.text) } : null;
  for (const e of added) {
    const line = entryLine(e);
    const bytes = Buffer.byteLength(line);
    if (cur && cur.bytes > 0 && cur.bytes + bytes > SHARD_MAX_BYTES) {
      files[shardName(cur.first)] = cur.text;
      sealed.push(shardName(cur.first));
      cur = null;
    }
    cur ??= { first: e.seq, text: '', bytes: 0 };
    cur.text += line;
    cur.bytes += bytes;
  }
  if (added.length && cur) files[TAIL_FILE] = cur.text;
  return { files, tail: cur && { first: cur.first, text: cur.text }, sealed };
}

/** Every file of a ledger holding `entries` (sealed shards and tail.jsonl). */
export function ledgerFiles(entries: LedgerEntry[]): Record<string, string> {
  return shardWrites(null, entries).files;
}
