// What a build leaves in its cache dir for the next one: the pin of the ledger it verified, the
// entries reduced to what the site's tables, API and balances read (a result without its loss
// curve, no log excerpt), a key per experiment page (re-rendered when its key changes) and the
// archived diffs it read from files. Stored as JSON lines: line 1 the rest, then one entry a line.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LedgerEntry } from '../../ledger/index.js';
import type { PageKey } from './experiment-pages.js';
import type { LedgerPin } from './ledger-reader.js';

const STATE_FILE = 'state.jsonl';
const SRC_DIR = dirname(fileURLToPath(import.meta.url));

export interface BuildState {
  /** the generator that wrote it (see generatorVersion): a page rendered by other code is not reused */
  generator: string;
  ledger: LedgerPin;
  /** experiment seq -> the key of the inputs its page was rendered from, and its size */
  pages: Record<string, PageKey>;
  /** experiment seq -> diff text read from diffs/<name>.diff (matched the recorded sha256) */
  fileDiffs: Record<string, string>;
  /** result_recorded seq -> [shard index, line index], to read the full entry again */
  at: Record<string, [number, number]>;
  entries: LedgerEntry[];
}

/**
 * A hash of everything that shapes the output besides the ledger: this folder's sources, the
 * site's assets and the rendering libraries' versions. Changed code re-renders every page.
 */
export function generatorVersion(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else h.update(`${full.slice(SRC_DIR.length)}\n`).update(readFileSync(full));
    }
  };
  walk(SRC_DIR);
  walk(join(SRC_DIR, '..', 'assets'));
  const require = createRequire(import.meta.url);
  for (const pkg of ['diff2html', 'uplot']) h.update(`${pkg}@${(require(`${pkg}/package.json`) as { version: string }).version}\n`);
  return h.digest('hex');
}

/** The entry as the model needs it: the heavy parts only an experiment's own page shows are dropped. */
export function slimEntry(e: LedgerEntry): LedgerEntry {
  if (e.type !== 'result_recorded') return { seq: e.seq, time: e.time, type: e.type, data: e.data, prev: '', hash: '' };
  const d = (e as LedgerEntry<'result_recorded'>).data;
  const r = d.result;
  const result = r && {
    status: r.status,
    failure: r.failure,
    val_bpb: r.val_bpb,
    hardware_class: r.hardware_class,
    steps: r.steps,
    params: r.params,
    tokens_per_second: r.tokens_per_second,
    train_seconds: r.train_seconds,
    total_seconds: r.total_seconds,
    job: r.job,
  };
  return { seq: e.seq, time: e.time, type: e.type, data: { ...d, result: result as typeof r, log_excerpt: null }, prev: '', hash: e.hash } as LedgerEntry;
}

export function readState(cacheDir: string): BuildState | null {
  const file = join(cacheDir, STATE_FILE);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const meta = JSON.parse(lines[0]) as Omit<BuildState, 'entries'>;
  const entries = new Array<LedgerEntry>(lines.length - 1);
  for (let i = 1; i < lines.length; i++) entries[i - 1] = JSON.parse(lines[i]) as LedgerEntry;
  return { ...meta, entries };
}

export function writeState(cacheDir: string, state: BuildState): void {
  mkdirSync(cacheDir, { recursive: true });
  const { entries, ...meta } = state;
  const parts = [JSON.stringify(meta)];
  for (const e of entries) parts.push(JSON.stringify(e));
  // written beside and renamed, so an interrupted build leaves the old state or none, never half
  const tmp = join(cacheDir, `${STATE_FILE}.tmp`);
  writeFileSync(tmp, parts.join('\n') + '\n');
  renameSync(tmp, join(cacheDir, STATE_FILE));
}
