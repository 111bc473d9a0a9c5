import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BROWN_SPLIT_SHA256, brownDir, brownFiles, detokenizeLine, loadBrown, sha256Hex, stripTag } from '../../trainer/data/brown.js';
import { devWindows, heldoutWindows } from '../../trainer/data/windows.js';

const realLines = readFileSync(join(brownDir(), 'ca01'), 'latin1')
  .split('\n')
  .filter((l) => l.trim());

describe('Brown corpus', () => {
  it('strips the POS tags of real corpus lines and restores spacing and quotes', () => {
    expect(detokenizeLine(realLines[0])).toBe(
      'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
    );
    const second = detokenizeLine(realLines[1]);
    expect(second).toContain('the City Executive Committee, which had over-all charge of the election, "deserves the praise');
    expect(second).not.toMatch(/\/[a-z$*-]+(\s|$)/); // no tag left
  });

  it('keeps a slash that belongs to the word', () => {
    expect(stripTag('1/2/cd')).toBe('1/2');
    expect(detokenizeLine("\t``/`` Yes/rb ,/, ''/'' he/pps said/vbd ./.")).toBe('"Yes," he said.');
  });

  it('splits by file in name order: index % 20 == 19 is validation', () => {
    const files = brownFiles();
    expect(files).toHaveLength(500);
    expect(files[0]).toEqual({ name: 'ca01', split: 'train' });
    expect(files[19]).toEqual({ name: 'ca20', split: 'val' });
    expect(files.filter((f) => f.split === 'val')).toHaveLength(25);
  });

  it('produces splits whose sha256 match the pinned values', () => {
    const ds = loadBrown();
    expect(sha256Hex(ds.train)).toBe(BROWN_SPLIT_SHA256.train);
    expect(sha256Hex(ds.val)).toBe(BROWN_SPLIT_SHA256.val);
    expect(ds.val.length).toBeGreaterThan(200_000); // the default dev evaluation fits
  });

  it('refuses a corpus whose split hash differs, saying how to fix it', () => {
    expect(() => loadBrown(brownDir(), { train: BROWN_SPLIT_SHA256.train, val: '0'.repeat(64) })).toThrow(
      /Brown val split has sha256 e8fbf6b2.*expected 0{64}.*npm ci/,
    );
  });
});

describe('evaluation windows', () => {
  const val = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

  it('cuts the dev split into consecutive windows: every byte after the first is scored once', () => {
    const w = devWindows(val, 100, 10);
    expect(w.rows).toBe(9); // 9 windows of 10 targets fit in 100 bytes
    for (let r = 0; r < w.rows; r++) {
      for (let t = 0; t < 10; t++) {
        expect(w.x[r * 10 + t]).toBe(val[r * 10 + t]);
        expect(w.y[r * 10 + t]).toBe(val[r * 10 + t + 1]);
      }
    }
  });

  it('draws held-out windows by the eval seed: same seed same windows, other seed other windows', () => {
    const a = heldoutWindows(val, 200, 10, 42);
    const b = heldoutWindows(val, 200, 10, 42);
    const c = heldoutWindows(val, 200, 10, 43);
    expect(Buffer.from(a.x).equals(Buffer.from(b.x))).toBe(true);
    expect(Buffer.from(a.x).equals(Buffer.from(c.x))).toBe(false);
    expect(a.rows).toBe(20);
  });

  it('says what to change when the split is too small', () => {
    expect(() => devWindows(val.subarray(0, 5), 100, 10)).toThrow(/--eval-bytes/);
  });
});
