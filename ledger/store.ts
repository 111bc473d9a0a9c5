// Where a ledger lives. The App appends through a LedgerStore; tests and local tools use the memory one.
import { appendEntries } from './chain.js';
import type { LedgerEntry, NewEntry } from './entries.js';
import { ledgerFiles } from './shards.js';

/**
 * New entries that depend on what the ledger already holds (e.g. grants: creditForResult is null
 * once a job is granted). A store calls it with the whole chain it appends to, and again on the
 * newer chain if another writer appended first, so two writers cannot both add the same grant.
 */
export type NewEntriesFor = (entries: LedgerEntry[]) => NewEntry[];

export interface LedgerStore {
  read(): Promise<LedgerEntry[]>;
  /** The chain as it is now, where read() may answer from a view the store trusts for a while (github-store.ts): one conditional request. */
  readFresh?(): Promise<LedgerEntry[]>;
  /** Appends in one commit, with `files` (e.g. diffs/<sha>.diff) written beside the shards; returns the stored entries. */
  append(news: NewEntry[], files?: Record<string, string>): Promise<LedgerEntry[]>;
  /** Appends what `build` makes of the whole chain (called again on a newer chain after a conflict). */
  appendFor?(build: NewEntriesFor, files?: Record<string, string>): Promise<LedgerEntry[]>;
}

export class MemoryLedgerStore implements LedgerStore {
  private entries: LedgerEntry[];
  private extra = new Map<string, string>();

  constructor(entries: LedgerEntry[] = []) {
    this.entries = [...entries];
  }

  async read(): Promise<LedgerEntry[]> {
    return [...this.entries];
  }

  async appendFor(build: NewEntriesFor, files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    return this.append(build([...this.entries]), files);
  }

  async append(news: NewEntry[], files: Record<string, string> = {}): Promise<LedgerEntry[]> {
    const added = appendEntries(this.entries, news);
    this.entries.push(...added);
    for (const [path, text] of Object.entries(files)) this.extra.set(path, text);
    return added;
  }

  /** Every file the ledger branch would hold: sealed shards, tail.jsonl and the extra files appended so far. */
  files(): Record<string, string> {
    return { ...Object.fromEntries(this.extra), ...ledgerFiles(this.entries) };
  }
}
