import { afterEach, beforeEach, describe, it, expect, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../ledger/cli.js';
import { appendEntries, creditForResult, FREE_TIER_REASON, writeLedgerDir, type LedgerEntry, type NewEntry } from '../../ledger/index.js';
import { baseline, dispatched, recorded, sha40, spent } from './fixtures.js';

const DIFF = '--- a/trainer/train.ts\n+++ b/trainer/train.ts\n@@ -1 +1 @@\n-const LR = 1e-3;\n+const LR = 2e-3;\n';

function build(): { entries: LedgerEntry[]; files: Record<string, string> } {
  const entries: LedgerEntry[] = [];
  const add = (...n: NewEntry[]) => entries.push(...appendEntries(entries, n));
  add(baseline('gpu-a10g', 20_000), baseline('gpu-rtx-4090', 41_000));
  add(dispatched('j1', 'agent-alice'), spent('agent-alice', 0, 'j1', FREE_TIER_REASON));
  const withDiff = (r: NewEntry<'result_recorded'>) => ({ ...r, data: { ...r.data, diff_sha256: createHash('sha256').update(DIFF).digest('hex') } });
  add(withDiff(recorded('j1', 'gpu-bob', { hardware_class: 'gpu-rtx-4090' })));
  add(creditForResult(entries, 'j1')!);
  add(withDiff(recorded('j2', 'gpu-bob')));
  return { entries, files: { [`diffs/${sha40(7)}.diff`]: DIFF } };
}

// most tests check in this thread; one below runs the worker threads
const verifyCli = (...args: string[]) => main(['verify', ...args, '--threads', '1']);

let dir: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
  out = [];
  err = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => {
  jest.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run ledger', () => {
  it('verify: passes an intact checkout and prints its head', async () => {
    const { entries, files } = build();
    writeLedgerDir(dir, entries, files);
    expect(await verifyCli(dir)).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`ledger OK: 7 entries, head seq 6 ${entries[6].hash}; 2 accounts, credits earned 615.0`));
  });

  it('verify: names the seq, file and line of a hand-edited entry and exits non-zero', async () => {
    const { entries, files } = build();
    writeLedgerDir(dir, entries, files);
    const shard = join(dir, 'entries/tail.jsonl');
    writeFileSync(shard, readFileSync(shard, 'utf8').replace('"amount":615', '"amount":6150'));
    expect(await verifyCli(dir)).toBe(1);
    expect(err[0]).toMatch(/^ledger BROKEN at seq 5 \(entries\/tail.jsonl line 6\): hash differs/);
  });

  it('verify: finds a changed archived diff, and a rewrite against a published head', async () => {
    const { entries, files } = build();
    writeLedgerDir(dir, entries, { [`diffs/${sha40(7)}.diff`]: DIFF.replace('2e-3', '9e-3') });
    expect(await verifyCli(dir)).toBe(1);
    expect(err.pop()).toMatch(/at seq 4 .*diffs\/0+7\.diff has sha256 .* the archived diff was changed/);

    rmSync(dir, { recursive: true });
    writeLedgerDir(dir, entries.slice(0, 5), files); // the last two entries were dropped
    expect(await verifyCli(dir, '--head', `6:${entries[6].hash}`)).toBe(1);
    expect(err.pop()).toMatch(/at seq 5: the chain ends at seq 4 but a known head is at seq 6: entries were removed/);
  });

  it('verify and head: a checkout with sealed shards but no tail.jsonl (the layout before it) gets one error that says how to repair it', async () => {
    const { entries, files } = build();
    writeLedgerDir(dir, entries, files);
    renameSync(join(dir, 'entries/tail.jsonl'), join(dir, 'entries/000000.jsonl'));
    writeFileSync(join(dir, 'HEAD.json'), JSON.stringify({ seq: 6, hash: entries[6].hash, time: entries[6].time, shard: 'entries/000000.jsonl' }));
    expect(await verifyCli(dir)).toBe(1);
    expect(err.pop()).toMatch(/has sealed shards but no entries\/tail.jsonl.*git mv entries\/000000.jsonl entries\/tail.jsonl && git rm -f --ignore-unmatch HEAD.json/);
    expect(await main(['head', dir])).toBe(1);
    expect(err.pop()).toMatch(/no entries\/tail.jsonl/);
    // the repair it names
    renameSync(join(dir, 'entries/000000.jsonl'), join(dir, 'entries/tail.jsonl'));
    rmSync(join(dir, 'HEAD.json'));
    expect(await verifyCli(dir)).toBe(0);
  });

  it('verify: one clear error for a line that is not JSON, and for bad arguments', async () => {
    const { entries } = build();
    writeLedgerDir(dir, entries);
    writeFileSync(join(dir, 'entries/tail.jsonl'), readFileSync(join(dir, 'entries/tail.jsonl'), 'utf8').replace(/\n(.)/, '\n{oops$1'));
    expect(await verifyCli(dir)).toBe(1);
    expect(err.pop()).toMatch(/^ledger BROKEN: entries\/tail.jsonl line 2 is not valid JSON/);
    expect(await verifyCli(dir, '--head', 'latest')).toBe(2);
    expect(err.pop()).toMatch(/--head must be SEQ:HASH/);
    expect(await verifyCli(join(dir, 'nope'))).toBe(1);
    expect(err.pop()).toMatch(/is not a checkout of the ledger branch/);
    expect(await main(['frobnicate'])).toBe(2);
    expect(err.pop()).toMatch(/"frobnicate" is not a ledger command[\s\S]*usage:/);
  });

  it('balance: prints the history table and the totals, pending included', async () => {
    const { entries, files } = build();
    writeLedgerDir(dir, entries, files);
    expect(await main(['balance', 'gpu-bob', dir])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^seq\s+time\s+entry\s+job\s+credits\s+note/);
    expect(text).toMatch(/5\s+\S+ \S+\s+credit_granted\s+j1\s+\+615\.0\s+300 s on gpu-rtx-4090 x 2\.050/);
    expect(text).toMatch(/6\s+\S+ \S+\s+result_recorded\s+j2\s+pending\s+result of PR #7, val_bpb 2\.1000/);
    expect(text).toMatch(/gpu-bob: balance 615\.0 credits \(earned 615\.0, spent 0\.0, reversed 0\.0; pending 300\.0 awaiting validation\)/);
  });

  it('head prints the last entry', async () => {
    const { entries } = build();
    writeLedgerDir(dir, entries);
    expect(await main(['head', dir])).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({ seq: 6, hash: entries[6].hash, time: entries[6].time, entries: 7 });
  });

  it('verify checks shards on worker threads and names the first broken entry', async () => {
    const { entries, files } = build();
    const big = (i: number) => ({ ...recorded(`big-${i}`, 'gpu-bob'), data: { ...recorded(`big-${i}`, 'gpu-bob').data, diff_path: null, log_excerpt: 'x'.repeat(50_000) } });
    writeLedgerDir(dir, [...entries, ...appendEntries(entries, Array.from({ length: 30 }, (_, i) => big(i)))], files);
    const shards = readdirSync(join(dir, 'entries')).sort();
    expect(shards.length).toBeGreaterThan(1); // two threads' worth of work
    expect(shards[shards.length - 1]).toBe('tail.jsonl');
    expect(await main(['verify', dir, '--threads', '2'])).toBe(0);
    expect(out.pop()).toMatch(/ledger OK: 37 entries/);
    const lastShard = join(dir, 'entries', shards[shards.length - 1]);
    writeFileSync(lastShard, readFileSync(lastShard, 'utf8').replace('"big-29"', '"big-99"'));
    expect(await main(['verify', dir, '--threads', '2'])).toBe(1);
    expect(err.pop()).toMatch(/^ledger BROKEN at seq 36 \(entries\/tail\.jsonl line \d+\): hash differs/);
  });

  it.each([['--help'], ['-h'], ['help']])('%s prints the usage on stdout and exits 0', async (flag) => {
    expect(await main([flag])).toBe(0);
    expect(out.join('\n')).toMatch(/^usage:\n  npm run ledger -- verify <ledger checkout>/);
    expect(err).toEqual([]);
  });

  it('names a negative number given to a flag and the allowed range (not "argument is ambiguous")', async () => {
    expect(await main(['verify', dir, '--overdraft', '-1'])).toBe(2);
    expect(err[0]).toMatch(/^--overdraft must be a non-negative number, got "-1"\./);
  });

  it('runs as the npm script', () => {
    const { entries } = build();
    writeLedgerDir(dir, entries);
    const r = spawnSync('npm', ['run', '--silent', 'ledger', '--', 'head', dir], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ seq: 6, hash: entries[6].hash });
  });
});
