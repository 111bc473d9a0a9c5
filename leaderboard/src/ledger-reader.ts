// Reading and verifying the ledger checkout: all of it, or (given the pin of an earlier build) only
// what was appended since. Parsing and verifying is what a 100,000-experiment ledger costs most
// (~460 MB of JSON: 20 s of CPU here), so an incremental build parses only the shards that grew;
// the bytes it does not parse are pinned instead: each shard's first `bytes` bytes must still
// have the sha256 the earlier build recorded after verifying them (hashing 460 MB: ~0.5 s). The
// checks themselves (seq and prev links, schema, hash) are the ledger module's. When the ledger
// dir is a clean git checkout (pages.yml checks the ledger branch out), a shard whose git blob id
// is the one recorded for the bytes verified is not even read: git vouches for its bytes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { contentProblem, lineHashMatches, linkProblem, parseShard, shardFiles, type LedgerEntry } from '../../ledger/index.js';

/** What an earlier build verified of one shard file (by its position in shard order). */
export interface ShardPin {
  bytes: number;
  lines: number;
  sha256: string;
  /** the git blob id of those bytes (the whole file), when the ledger dir is a git checkout */
  blob?: string;
}

export interface LedgerPin {
  head: { seq: number; hash: string; time: string };
  /** entries in the whole verified ledger */
  entries: number;
  shards: ShardPin[];
}

export interface LedgerRead {
  /** all entries (full read) or only those after the pin's head (incremental) */
  entries: LedgerEntry[];
  /** the stored line of each entry, same order */
  lines: string[];
  /** where each of `entries` lies: [index in shardFiles order, line index], same order */
  at: [number, number][];
  pin: LedgerPin;
  /** set when a pin was given but could not be used: why the whole ledger was read */
  fullBecause: string | null;
  /** verified shards that were not read: git vouched for their bytes (see hashPinnedBytes) */
  byGit: number;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const isGitCheckout = (dir: string) => existsSync(join(dir, '.git'));

/** The pin of a shard's bytes; with the git blob id git would give them, in a git checkout. */
function pinOf(buf: Buffer, lines: number, git: boolean): ShardPin {
  const pin: ShardPin = { bytes: buf.length, lines, sha256: sha256(buf) };
  if (git) pin.blob = createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
  return pin;
}

/**
 * path -> git blob id of every file at HEAD, when `dir` is the top of a git checkout whose
 * tracked files all match HEAD (git status compares each file's stat, and its content when the
 * stat changed): then a file's blob id at HEAD names its bytes. Null otherwise, or when git fails.
 */
function gitBlobs(dir: string): Map<string, string> | null {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  try {
    if (realpathSync(git('rev-parse', '--show-toplevel').trim()) !== realpathSync(dir)) return null;
    if (git('status', '--porcelain', '--untracked-files=no').length > 0) return null;
    const blobs = new Map<string, string>();
    for (const row of git('ls-tree', '-r', '-z', '--full-tree', 'HEAD').split('\0')) {
      const tab = row.indexOf('\t');
      const [, type, id] = row.slice(0, tab).split(' ');
      if (type === 'blob') blobs.set(row.slice(tab + 1), id);
    }
    return blobs;
  } catch {
    return null;
  }
}

function broken(dir: string, seq: number, problem: string): Error {
  return new Error(`The ledger in ${dir} fails verification at seq ${seq}: ${problem}. Nothing was built; run \`npm run ledger -- verify ${dir}\` for the full report.`);
}

function empty(dir: string): Error {
  return new Error(`${dir} holds no ledger entries yet; the site is built once the App has appended the first one.`);
}

/**
 * The ledger module's checks of each entry, in order: its link (seq, and prev = the hash of the
 * one before), then its time, schema and hash, the hash checked on the stored line's own text as
 * \`npm run ledger -- verify\` does (no re-serialization of 460 MB). Throws at the first problem.
 */
function verifyEntries(dir: string, entries: LedgerEntry[], lines: string[], firstSeq: number, before: Pick<LedgerEntry, 'hash'> | null): void {
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    const link = linkProblem(e, firstSeq + k, before);
    if (link) throw broken(dir, link.seq, link.problem);
    const problem = contentProblem(e, lineHashMatches(lines[k], e));
    if (problem) throw broken(dir, e.seq, problem);
    before = e;
  }
}

/** Reads and verifies every entry. */
export function readWholeLedger(dir: string, fullBecause: string | null = null): LedgerRead {
  const git = isGitCheckout(dir);
  const entries: LedgerEntry[] = [];
  const lines: string[] = [];
  const at: [number, number][] = [];
  const shards: ShardPin[] = [];
  shardFiles(dir).forEach((f, i) => {
    const buf = readFileSync(join(dir, f.path));
    const shard = parseShard(f.path, buf.toString('utf8'));
    shard.entries.forEach((e, j) => {
      entries.push(e);
      lines.push(shard.lines[j]);
      at.push([i, j]);
    });
    shards.push(pinOf(buf, shard.lines.length, git));
  });
  if (entries.length === 0) throw empty(dir);
  verifyEntries(dir, entries, lines, 0, null);
  const last = entries[entries.length - 1];
  return { entries, lines, at, pin: { head: { seq: last.seq, hash: last.hash, time: last.time }, entries: entries.length, shards }, fullBecause, byGit: 0 };
}

/** The shard files, the sha256 of the part of each that the pin covers, and the bytes of those that grew. */
export interface PinnedBytes {
  files: { path: string; bytes: number }[];
  sha256: (string | null)[];
  /** a shard's bytes, where it holds more than the pin covers (null where it holds the same) */
  grown: (Buffer | null)[];
  /** shards pinned by their git blob id, without reading them */
  byGit: number;
}

/** Reads the shard files and hashes what the pin covers (~1 GB/s: 0.5 s for 100,000 experiments on a quiet disk). */
export function hashPinnedBytes(dir: string, prior: LedgerPin): PinnedBytes {
  const files = shardFiles(dir);
  const blobs = prior.shards.some((p) => p.blob) ? gitBlobs(dir) : null;
  const sha: (string | null)[] = [];
  const grown: (Buffer | null)[] = [];
  let byGit = 0;
  files.forEach((f, i) => {
    const p = prior.shards[i];
    if (p?.blob && blobs?.get(f.path) === p.blob && f.bytes === p.bytes) {
      sha.push(p.sha256);
      grown.push(null);
      byGit++;
      return;
    }
    const buf = readFileSync(join(dir, f.path));
    sha.push(p && buf.length >= p.bytes ? sha256(buf.subarray(0, p.bytes)) : null);
    // unchanged shards are dropped at once: 460 MB at 100,000 experiments
    grown.push(p && buf.length === p.bytes ? null : buf);
  });
  return { files, sha256: sha, grown, byGit };
}

/**
 * Reads only what was appended after `prior` was verified, when the bytes it verified are still
 * there unchanged (`pinned`, from hashPinnedBytes); otherwise reads the whole ledger and says why
 * in `fullBecause`.
 */
export function readLedgerSince(dir: string, prior: LedgerPin, pinned: PinnedBytes): LedgerRead {
  const { files, grown } = pinned;
  const git = isGitCheckout(dir);
  if (files.length < prior.shards.length) {
    return readWholeLedger(dir, `the ledger has ${files.length} shard files, fewer than the ${prior.shards.length} the last build verified`);
  }
  const entries: LedgerEntry[] = [];
  const lines: string[] = [];
  const at: [number, number][] = [];
  const shards: ShardPin[] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    const buf = grown[i];
    const p = prior.shards[i];
    if (p && pinned.sha256[i] !== p.sha256) {
      return readWholeLedger(dir, `${f.path} no longer starts with the ${p.bytes} bytes the last build verified (the ledger's history or layout changed)`);
    }
    if (!buf) {
      // only a pinned shard that holds exactly the bytes verified has none here
      shards.push(p);
      continue;
    }
    const shard = parseShard(f.path, buf.toString('utf8'));
    const from = p ? p.lines : 0;
    for (let j = from; j < shard.entries.length; j++) {
      entries.push(shard.entries[j]);
      lines.push(shard.lines[j]);
      at.push([i, j]);
    }
    shards.push(pinOf(buf, shard.lines.length, git));
  }
  // The new entries must continue the verified head: seq head+1, prev = its hash, and so on.
  verifyEntries(dir, entries, lines, prior.head.seq + 1, { hash: prior.head.hash });
  const last = entries.length ? entries[entries.length - 1] : null;
  const head = last ? { seq: last.seq, hash: last.hash, time: last.time } : prior.head;
  return { entries, lines, at, pin: { head, entries: prior.entries + entries.length, shards }, fullBecause: null, byGit: pinned.byGit };
}

/** One entry, read again from the shard where an earlier read found it (bytes pinned since). */
export function readEntriesAt(dir: string, where: readonly [number, number][]): LedgerEntry[] {
  const files = shardFiles(dir);
  const byShard = new Map<number, { path: string; lines: string[] }>();
  return where.map(([i, j]) => {
    let shard = byShard.get(i);
    if (!shard) {
      const text = readFileSync(join(dir, files[i].path), 'utf8');
      shard = { path: files[i].path, lines: text.split('\n') };
      byShard.set(i, shard);
    }
    return JSON.parse(shard.lines[j]) as LedgerEntry;
  });
}
