// A stored line is its own hash's text: the App writes each entry's data in canonical form, and
// readers check the hash on that text (lineHashMatches) instead of re-serializing. A forger who
// can push the branch (docs/ledger.md, "The witness") writes a line whose data text is NOT
// canonical but whose sha256 is over that very text: a duplicate key (`"login":"alice",
// "login":"mallory"`: JavaScript's JSON.parse keeps the last, a first-wins or strict parser
// elsewhere keeps the first or refuses), keys out of order, whitespace, `1.0` for `1`. Every
// reader here accepted it, and a witness signed a head over it, yet the hash docs/ledger.md
// defines (sha256 of the canonical JSON of the parsed entry) differs: two verifiers of the same
// signed head disagree on whether the ledger is sound, and on what one of its entries says.
import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendEntries, entryLine, type LedgerEntry } from '../../ledger/index.js';
import { contentProblem, lineHashMatches } from '../../ledger/chain.js';
import { verifyLedgerDir } from '../../ledger/verify-dir.js';
import { at, baseline, dispatched } from './fixtures.js';

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

/** The line a forger writes: `data` is raw text, and the hash is taken over it the way lineHashMatches checks it. */
function forgedLine(e: Pick<LedgerEntry, 'seq' | 'time' | 'type' | 'prev'>, data: string): string {
  const hash = sha256(`{"data":${data},"prev":${JSON.stringify(e.prev)},"seq":${e.seq},"time":${JSON.stringify(e.time)},"type":${JSON.stringify(e.type)}}`);
  return `{"seq":${e.seq},"time":${JSON.stringify(e.time)},"type":${JSON.stringify(e.type)},"data":${data},"prev":${JSON.stringify(e.prev)},"hash":${JSON.stringify(hash)}}`;
}

const honest = appendEntries([], [baseline('gpu-a10g', 20_000, undefined, at(0)), dispatched('j1', 'agent-alice', { time: at(1) })]);
const last = honest[1];
const canonicalData = JSON.stringify(last.data);

// Each is text JSON.parse reads as a valid job_dispatched, hashed as written, and not canonical.
const variants: Record<string, string> = {
  'a duplicate key (the first value hidden from JavaScript readers)': canonicalData.replace('"author":"agent-alice"', '"author":"agent-mallory","author":"agent-alice"'),
  'keys out of canonical order': JSON.stringify(Object.fromEntries(Object.entries(last.data).reverse())),
  'whitespace between tokens': canonicalData.replace('"author":', '"author": '),
  'a unicode escape for a plain character': canonicalData.replace('"agent-alice"', '"agent-\\u0061lice"'),
  'a number spelled another way': canonicalData.replace('"budget_seconds":300', '"budget_seconds":3e2'),
};

describe('a stored line whose data text is not canonical', () => {
  it('each variant parses as the honest data (so only the text differs)', () => {
    for (const text of Object.values(variants)) {
      expect(text).not.toBe(canonicalData);
      expect(JSON.parse(text)).toEqual(last.data);
    }
  });

  for (const [what, data] of Object.entries(variants)) {
    it(`is refused when its data has ${what}`, async () => {
      const line = forgedLine(last, data);
      const e = JSON.parse(line) as LedgerEntry;
      expect(lineHashMatches(line, e)).toBe(false);
      expect(contentProblem(e, lineHashMatches(line, e))).toMatch(/hash differs/);

      const dir = mkdtempSync(join(tmpdir(), 'ledger-canon-'));
      mkdirSync(join(dir, 'entries'));
      writeFileSync(join(dir, 'entries', 'tail.jsonl'), entryLine(honest[0]) + line + '\n');
      const r = await verifyLedgerDir(dir, { threads: 1 });
      expect(r).toMatchObject({ ok: false, seq: 1, problem: expect.stringMatching(/hash differs/) });
    });
  }

  it('the honest line still verifies on its text', () => {
    const line = entryLine(last).trimEnd();
    expect(lineHashMatches(line, JSON.parse(line))).toBe(true);
  });
});
