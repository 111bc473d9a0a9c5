// A checkout of the `ledger` branch on disk (what `npm run ledger` and the leaderboard read).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LedgerEntry } from './entries.js';
import { ENTRIES_DIR, ledgerFiles, missingTail, parseLedgerText, shardStart, TAIL_FILE } from './shards.js';

/** The shard files of a checkout, in seq order (sealed shards, then tail.jsonl), as paths relative to `dir`, with their sizes. */
export function shardFiles(dir: string): { path: string; bytes: number }[] {
  const entriesDir = join(dir, ENTRIES_DIR);
  if (!existsSync(entriesDir)) {
    throw new Error(`${dir} is not a checkout of the ledger branch: it has no ${ENTRIES_DIR}/ folder (try: git fetch origin ledger && git worktree add ledger-checkout ledger).`);
  }
  const shards = readdirSync(entriesDir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => ({ path: `${ENTRIES_DIR}/${f}`, start: shardStart(`${ENTRIES_DIR}/${f}`) ?? Infinity }))
    .sort((a, b) => a.start - b.start);
  const last = shards[shards.length - 1];
  if (last && last.path !== TAIL_FILE) throw new Error(missingTail(dir, last.path));
  return shards.map(({ path }) => ({ path, bytes: statSync(join(dir, path)).size }));
}

export function readLedgerDir(dir: string): LedgerEntry[] {
  return parseLedgerText(shardFiles(dir).map(({ path }) => ({ path, text: readFileSync(join(dir, path), 'utf8') })));
}

/** Writes a ledger (and any extra files, e.g. diffs/<sha>.diff) as a checkout would hold it. */
export function writeLedgerDir(dir: string, entries: LedgerEntry[], extra: Record<string, string> = {}): void {
  for (const [path, text] of Object.entries({ ...extra, ...ledgerFiles(entries) })) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}
