// The files of the ledger branch: sealed shards named by their first seq, and tail.jsonl.
import { describe, it, expect } from '@jest/globals';
import { appendEntries, ledgerFiles, MemoryLedgerStore, parseLedgerText, SHARD_MAX_BYTES, shardWrites, TAIL_FILE, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { dispatched, recorded } from './fixtures.js';

const big = (i: number): NewEntry => {
  const r = recorded(`j${i}`, 'gpu-bob');
  return { ...r, data: { ...r.data, log_excerpt: 'x'.repeat(28_000) } };
};
const asShards = (files: Record<string, string>) => Object.entries(files).map(([path, text]) => ({ path, text }));

describe('ledger layout', () => {
  it('keeps the last entries in tail.jsonl and seals full ones under their first seq', () => {
    const entries = appendEntries([], Array.from({ length: 12 }, (_, i) => big(i)));
    const files = ledgerFiles(entries);
    const names = Object.keys(files).sort();
    expect(names).toEqual(['entries/000000.jsonl', 'entries/000004.jsonl', TAIL_FILE]); // four 28 KB entries fill 128 KiB
    for (const text of Object.values(files)) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(SHARD_MAX_BYTES);
    expect(parseLedgerText(asShards(files))).toEqual(entries);
  });

  it('an append rewrites only tail.jsonl until it is full, then seals it', () => {
    const first = appendEntries([], [big(0), big(1), big(2)]);
    const w1 = shardWrites(null, first);
    expect(Object.keys(w1.files)).toEqual([TAIL_FILE]);
    const next = appendEntries(first, [dispatched('small', 'agent-alice')]);
    expect(Object.keys(shardWrites(w1.tail, next).files)).toEqual([TAIL_FILE]);
    const more = appendEntries(first, [big(3), big(4)]);
    const w2 = shardWrites(w1.tail, more);
    expect(w2.sealed).toEqual(['entries/000000.jsonl']);
    expect(Object.keys(w2.files).sort()).toEqual(['entries/000000.jsonl', TAIL_FILE]);
    expect(w2.tail!.first).toBe(4);
  });

  it('MemoryLedgerStore.files() is the branch a GitHub store would hold, extra files included', async () => {
    const m = new MemoryLedgerStore();
    const added: LedgerEntry[] = [];
    for (let i = 0; i < 6; i++) added.push(...(await m.append([big(i)], i === 0 ? { 'diffs/a.diff': 'diff' } : {})));
    const files = m.files();
    expect(Object.keys(files).sort()).toEqual(['diffs/a.diff', 'entries/000000.jsonl', TAIL_FILE]);
    expect(files).toEqual({ 'diffs/a.diff': 'diff', ...ledgerFiles(added) });
    expect(parseLedgerText(asShards(Object.fromEntries(Object.entries(files).filter(([p]) => p.startsWith('entries/')))))).toEqual(added);
  });

  it('parses tail.jsonl last whatever the order given, and checks first seqs of sealed shards only', () => {
    const entries = appendEntries([], Array.from({ length: 6 }, (_, i) => big(i)));
    const files = ledgerFiles(entries);
    expect(parseLedgerText(asShards(files).reverse())).toEqual(entries);
    const moved = { ...files, 'entries/000001.jsonl': files['entries/000000.jsonl'] };
    delete (moved as Record<string, string>)['entries/000000.jsonl'];
    expect(() => parseLedgerText(asShards(moved))).toThrow(/entries\/000001.jsonl line 1 holds seq 0, but a shard named entries\/000001.jsonl must start at seq 1/);
    expect(() => parseLedgerText([{ path: 'entries/latest.jsonl', text: '' }])).toThrow(/is not a ledger shard: .*the last one entries\/tail.jsonl/);
  });
});
