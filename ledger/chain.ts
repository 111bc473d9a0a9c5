// The hash chain: sequencing new entries and checking a stored chain. Pure: no I/O, no GitHub.
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { ENTRY_TYPES, EntryData, type EntryType, type LedgerEntry, type NewEntry } from './entries.js';

export const ZERO_HASH = '0'.repeat(64);

export type ChainHead = { seq: number; hash: string };
export type ChainCheck = { ok: true; head: ChainHead | null } | { ok: false; seq: number; problem: string };

/** sha256 hex of the canonical JSON of {seq, time, type, data, prev}. */
export function hashEntry(e: Omit<LedgerEntry, 'hash'>): string {
  const { seq, time, type, data, prev } = e;
  return sha256(canonicalJson({ seq, time, type, data, prev }));
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Whether `e.hash` is the hash of its content. Entries are stored with their data keys already
 * in canonical order, so the engine's own JSON.stringify of the fields in sorted order usually
 * is the canonical text: if its sha256 equals the stored hash, the content is what was hashed
 * (a different text with the same sha256 would be a collision). Only when that fails is the
 * canonical form built key by key, which is several times slower on 100,000 entries.
 */
function hashMatches(e: LedgerEntry): { ok: true } | { ok: false; recomputed: string } {
  if (keysSorted(e.data) && sha256(JSON.stringify({ data: e.data, prev: e.prev, seq: e.seq, time: e.time, type: e.type })) === e.hash) return { ok: true };
  const recomputed = hashEntry(e);
  return recomputed === e.hash ? { ok: true } : { ok: false, recomputed };
}

/**
 * Whether every object in `v` has its keys in canonical (UTF-16 code unit) order. JSON.stringify
 * writes keys in the order they were read, so it is the canonical text only when this holds: a
 * forger who hashed data with its keys out of order would otherwise pass the fast paths above and
 * below with a hash that the canonical form, as docs/ledger.md defines it, does not give.
 */
function keysSorted(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(keysSorted);
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    if (i && !(keys[i - 1] < keys[i])) return false;
    if (!keysSorted((v as Record<string, unknown>)[keys[i]])) return false;
  }
  return true;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The data problem of an entry's type and data, or null. */
export function entryDataProblem(type: string, data: unknown): string | null {
  if (!(ENTRY_TYPES as string[]).includes(type)) {
    return `type "${type}" is not a ledger entry type (one of ${ENTRY_TYPES.join(', ')})`;
  }
  const parsed = EntryData[type as EntryType].safeParse(data);
  if (parsed.success) return null;
  const first = parsed.error.issues[0];
  return `data of a ${type} entry: ${first.path.join('.') || '(root)'}: ${first.message}`;
}

/**
 * Sequences `news` after the last entry of `chain` (which may be only the chain's tail: only its
 * last entry is read) and returns the new entries. Each entry's data is checked against its
 * type's schema first; one bad entry rejects the whole batch, so nothing is half-appended.
 */
export function appendEntries(chain: LedgerEntry[], news: NewEntry[]): LedgerEntry[] {
  const last = chain.length ? chain[chain.length - 1] : null;
  let seq = last ? last.seq + 1 : 0;
  let prev = last ? last.hash : ZERO_HASH;
  const out: LedgerEntry[] = [];
  news.forEach((n, i) => {
    const problem = entryDataProblem(n.type, n.data);
    if (problem) throw new Error(`Ledger append rejected (new entry ${i + 1} of ${news.length}): ${problem}. Fix the entry; nothing was appended.`);
    const time = n.time ?? new Date(Date.now()).toISOString();
    if (!ISO_TIME.test(time) || Number.isNaN(Date.parse(time))) {
      throw new Error(`Ledger append rejected (new entry ${i + 1} of ${news.length}): time "${time}" is not an ISO 8601 timestamp such as 2026-01-31T12:00:00.000Z; nothing was appended.`);
    }
    // Store what the schema admits, with keys in canonical order (see hashMatches).
    const data = JSON.parse(canonicalJson(EntryData[n.type].parse(n.data)));
    const body = { seq, time, type: n.type, data, prev } as Omit<LedgerEntry, 'hash'>;
    const entry = { ...body, hash: hashEntry(body) } as LedgerEntry;
    out.push(entry);
    seq += 1;
    prev = entry.hash;
  });
  return out;
}

/** What is wrong with the link of the entry at position `i` (its seq and prev), or null. */
export function linkProblem(e: Pick<LedgerEntry, 'seq' | 'prev'>, i: number, before: Pick<LedgerEntry, 'hash'> | null): { seq: number; problem: string } | null {
  if (e.seq !== i) {
    // The lower of the two seqs is where the chain first stops making sense.
    const seq = Math.min(i, typeof e.seq === 'number' ? e.seq : i);
    const problem =
      typeof e.seq !== 'number'
        ? `entry at position ${i} has no numeric seq`
        : e.seq > i
          ? `expected seq ${i} but found seq ${e.seq}: entry ${i} is missing or the entries are out of order`
          : `seq ${e.seq} appears again at position ${i}: an entry was inserted or duplicated`;
    return { seq, problem };
  }
  const expectedPrev = before ? before.hash : ZERO_HASH;
  if (e.prev !== expectedPrev) {
    return {
      seq: i,
      problem: `prev is ${e.prev} but ${before ? `the hash of seq ${i - 1} is ${expectedPrev}` : 'the first entry must have prev 0…0'}: an entry before it was altered, removed or inserted`,
    };
  }
  return null;
}

/**
 * Whether the stored line `line`, parsed as `e`, carries the hash of its content, checked on the
 * text itself: a line written by entryLine holds its data in canonical form, so the canonical
 * text of {data, prev, seq, time, type} can be assembled from slices of the line without
 * serializing anything. False means "not shown this way" (the caller falls back to the objects).
 */
export function lineHashMatches(line: string, e: LedgerEntry): boolean {
  const prefix = `{"seq":${e.seq},"time":${JSON.stringify(e.time)},"type":${JSON.stringify(e.type)},"data":`;
  const suffix = `,"prev":${JSON.stringify(e.prev)},"hash":${JSON.stringify(e.hash)}}`;
  if (!line.startsWith(prefix) || !line.endsWith(suffix)) return false;
  const data = line.slice(prefix.length, line.length - suffix.length);
  // The text must be the canonical form of what it parses to: no duplicate key (JSON.parse keeps
  // the last, another reader may keep the first), no whitespace, escape or number spelled another
  // way, keys in order. Otherwise the hash is of a text no honest writer produces, and a verifier
  // that re-canonicalizes (as docs/ledger.md defines the hash) would disagree with this one.
  if (data !== JSON.stringify(e.data) || !keysSorted(e.data)) return false;
  return sha256(`{"data":${data},"prev":${JSON.stringify(e.prev)},"seq":${e.seq},"time":${JSON.stringify(e.time)},"type":${JSON.stringify(e.type)}}`) === e.hash;
}

/**
 * What is wrong with one entry's own content (time, schema, hash), or null. Independent of the
 * other entries. `hashShown`: the hash was already checked on the stored text (lineHashMatches).
 */
export function contentProblem(e: LedgerEntry, hashShown = false): string | null {
  if (typeof e.time !== 'string' || !ISO_TIME.test(e.time)) return `time ${JSON.stringify(e.time)} is not an ISO 8601 timestamp`;
  const schemaProblem = entryDataProblem(e.type, e.data);
  if (schemaProblem) return schemaProblem;
  if (hashShown) return null;
  try {
    const check = hashMatches(e);
    return check.ok ? null : `hash differs: stored ${e.hash}, recomputed ${check.recomputed}: the entry was altered after it was written`;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether a chain ending in `entries` still holds a head someone recorded earlier. */
export function knownHeadProblem(entries: Pick<LedgerEntry, 'seq' | 'hash'>[], knownHead: ChainHead): { seq: number; problem: string } | null {
  const last = entries.length ? entries[entries.length - 1] : null;
  if (!last || last.seq < knownHead.seq) {
    return {
      seq: last ? last.seq + 1 : 0,
      problem: `the chain ends at seq ${last ? last.seq : 'none'} but a known head is at seq ${knownHead.seq}: entries were removed`,
    };
  }
  const at = entries[knownHead.seq];
  if (at.hash !== knownHead.hash) {
    return { seq: knownHead.seq, problem: `hash is ${at.hash} but the known head recorded ${knownHead.hash} for this seq: the history up to here was rewritten` };
  }
  return null;
}

/**
 * Checks a whole chain from seq 0: seq continuity, every prev link, every hash, every entry's
 * schema. On the first broken entry returns its seq and what differs. With `knownHead` (a head
 * someone recorded earlier, e.g. from a leaderboard build or a witness attestation), also checks
 * that the chain still contains that entry unchanged, which detects a rewritten history.
 */
export function verifyChain(entries: LedgerEntry[], knownHead?: ChainHead): ChainCheck {
  for (let i = 0; i < entries.length; i++) {
    const link = linkProblem(entries[i], i, i ? entries[i - 1] : null);
    if (link) return { ok: false, ...link };
    const problem = contentProblem(entries[i]);
    if (problem) return { ok: false, seq: i, problem };
  }
  const head = knownHead && knownHeadProblem(entries, knownHead);
  if (head) return { ok: false, ...head };
  const last = entries.length ? entries[entries.length - 1] : null;
  return { ok: true, head: last ? { seq: last.seq, hash: last.hash } : null };
}
