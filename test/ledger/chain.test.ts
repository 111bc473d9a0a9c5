import { describe, it, expect } from '@jest/globals';
import { appendEntries, canonicalJson, entryLine, hashEntry, MemoryLedgerStore, verifyChain, ZERO_HASH, type LedgerEntry } from '../../ledger/index.js';
import { lineHashMatches } from '../../ledger/chain.js';
import { at, baseline, dispatched, recorded, spent, verification } from './fixtures.js';

function ledger(): LedgerEntry[] {
  return appendEntries(
    [],
    [
      baseline('gpu-a10g', 20_000, undefined, at(0)),
      dispatched('j1', 'agent-alice', { time: at(1) }),
      recorded('j1', 'gpu-bob', { time: at(6) }),
      verification('j1', true),
      dispatched('j2', 'agent-carol', { time: at(7) }),
      recorded('j2', 'gpu-dave', { time: at(12) }),
      spent('agent-alice', 0, 'j1', 'free_tier'),
      dispatched('j3', 'agent-alice', { time: at(13) }),
    ],
  );
}

/** Re-hashes entries from `from` on, as a forger who controls the branch would. */
function rehash(entries: LedgerEntry[], from: number): LedgerEntry[] {
  const out = entries.map((e) => ({ ...e }));
  for (let i = from; i < out.length; i++) {
    out[i].prev = i === 0 ? ZERO_HASH : out[i - 1].hash;
    out[i].hash = hashEntry(out[i]);
  }
  return out;
}

describe('canonical JSON', () => {
  it('is the same text whatever the key order, at every depth', () => {
    const a = { b: 1, a: { y: [3, { q: 1, p: 2 }], x: 'é\u2028"' }, c: null };
    const b = { c: null, a: { x: 'é\u2028"', y: [3, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"é\u2028\\"","y":[3,{"p":2,"q":1}]},"b":1,"c":null}');
  });

  it('writes numbers as ECMAScript does (RFC 8785) and keeps array order', () => {
    expect(canonicalJson([1e21, 0.1, -0, 300.0, 1.5e-7])).toBe('[1e+21,0.1,0,300,1.5e-7]');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('refuses values JSON cannot carry, naming where they are', () => {
    expect(() => canonicalJson({ a: { b: NaN } })).toThrow('$.a.b is NaN');
    expect(() => canonicalJson({ d: new Date(0) })).toThrow('$.d is a Date');
  });

  it('gives an entry the same hash whatever order its data keys were built in', () => {
    const [e] = ledger();
    const shuffled = { ...e, data: Object.fromEntries(Object.entries(e.data).reverse()) } as LedgerEntry;
    expect(hashEntry(shuffled)).toBe(e.hash);
  });
});

describe('hash chain', () => {
  it('verifies an untouched chain and reports its head', () => {
    const entries = ledger();
    expect(verifyChain(entries)).toEqual({ ok: true, head: { seq: 7, hash: entries[7].hash } });
    expect(verifyChain([])).toEqual({ ok: true, head: null });
  });

  it('accepts an entry whose stored keys were merely reordered (same content, same canonical hash)', () => {
    const entries = ledger();
    entries[2] = { ...entries[2], data: Object.fromEntries(Object.entries(entries[2].data).reverse()) } as LedgerEntry;
    expect(verifyChain(entries).ok).toBe(true);
  });

  it('detects an altered entry at its seq', () => {
    const entries = ledger();
    (entries[5].data as { runner_owner: string }).runner_owner = 'mallory';
    const r = verifyChain(entries);
    expect(r).toMatchObject({ ok: false, seq: 5 });
    expect(!r.ok && r.problem).toMatch(/hash differs/);
  });

  it('detects an altered and re-hashed entry at the next seq, whose prev no longer matches', () => {
    const entries = ledger();
    (entries[2].data as { runner_owner: string }).runner_owner = 'mallory';
    entries[2].hash = hashEntry(entries[2]);
    expect(verifyChain(entries)).toMatchObject({ ok: false, seq: 3, problem: expect.stringMatching(/prev .* hash of seq 2/) });
  });

  it('detects a removed entry at the seq that is missing', () => {
    const entries = ledger();
    entries.splice(4, 1);
    expect(verifyChain(entries)).toMatchObject({ ok: false, seq: 4, problem: expect.stringMatching(/expected seq 4 but found seq 5/) });
  });

  it('detects two reordered entries at the first of them', () => {
    const entries = ledger();
    [entries[3], entries[4]] = [entries[4], entries[3]];
    expect(verifyChain(entries)).toMatchObject({ ok: false, seq: 3 });
  });

  it('detects an inserted entry at the seq where it was put, even when it is well formed', () => {
    const entries = ledger();
    const [forged] = appendEntries(entries.slice(0, 3), [spent('gpu-bob', 0, 'j1', 'free_tier')]);
    entries.splice(3, 0, forged);
    const r = verifyChain(entries);
    expect(r).toMatchObject({ ok: false, seq: 3 });
    expect(!r.ok && r.problem).toMatch(/seq 3 appears again|prev/);
  });

  it('detects a fully re-hashed rewrite against a head recorded earlier', () => {
    const entries = ledger();
    const published = { seq: 7, hash: entries[7].hash };
    (entries[2].data as { runner_owner: string }).runner_owner = 'mallory';
    const rewritten = rehash(entries, 2);
    expect(verifyChain(rewritten).ok).toBe(true); // internally consistent...
    expect(verifyChain(rewritten, published)).toMatchObject({ ok: false, seq: 7, problem: expect.stringMatching(/rewritten/) });
    expect(verifyChain(rewritten.slice(0, 6), published)).toMatchObject({ ok: false, seq: 6, problem: expect.stringMatching(/removed/) });
  });

  it('detects data that breaks its schema at that seq', () => {
    const entries = ledger();
    (entries[1].data as { budget_seconds: number }).budget_seconds = -5;
    entries[1].hash = hashEntry(entries[1]);
    expect(verifyChain(rehash(entries, 1))).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/budget_seconds/) });
  });
});

describe('checking a hash on the stored line', () => {
  it('agrees with the canonical hash for a line as written, and declines any other text', () => {
    for (const e of ledger()) {
      const line = entryLine(e).trimEnd();
      expect(lineHashMatches(line, JSON.parse(line))).toBe(true);
      const edited = line.replace('"gpu-a10g"', '"gpu-h100"').replace('"agent-alice"', '"agent-mallory"').replace('"validated":true', '"validated":false');
      if (edited !== line) expect(lineHashMatches(edited, JSON.parse(edited))).toBe(false);
      const reordered = JSON.stringify({ ...e, data: Object.fromEntries(Object.entries(e.data).reverse()) });
      if (Object.keys(e.data).length > 1) expect(lineHashMatches(reordered, JSON.parse(reordered))).toBe(false); // not canonical text: the caller re-canonicalizes
    }
  });
});

describe('appending', () => {
  it('links each new entry to the last and numbers them on', () => {
    const entries = ledger();
    const more = appendEntries(entries, [dispatched('j4', 'agent-carol')]);
    expect(more[0]).toMatchObject({ seq: 8, prev: entries[7].hash });
    expect(verifyChain([...entries, ...more]).ok).toBe(true);
  });

  it('rejects a batch with one bad entry as a whole, naming it, and keeps what was recorded', async () => {
    const store = new MemoryLedgerStore(ledger());
    const bad = { type: 'credit_spent', data: { login: '', amount: 5, job_id: 'j3', reason: 'experiment' } } as const;
    await expect(store.append([dispatched('j5', 'x'), bad])).rejects.toThrow(/new entry 2 of 2\): data of a credit_spent entry: login/);
    await expect(store.append([{ type: 'no_such_type' as 'credit_spent', data: bad.data }])).rejects.toThrow(/"no_such_type" is not a ledger entry type/);
    await expect(store.append([{ ...dispatched('j5', 'x'), time: 'yesterday' }])).rejects.toThrow(/time "yesterday" is not an ISO 8601/);
    expect(await store.read()).toHaveLength(8);
  });
});
