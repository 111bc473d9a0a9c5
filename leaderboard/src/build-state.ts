// What a build leaves in its cache dir for the next one: the pin of the ledger it verified, the
// entries reduced to what the site's tables, API and balances read (a result without its loss
// curve, log excerpt and inline diff; most other entries to a few fields), a key per experiment
// page and per table page (re-rendered when its key changes) and the archived diffs it read from files. entries.jsonl only grows, like the ledger: a build appends
// the entries it read; meta.json says how many bytes of it are valid, and is written last.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { longRunIssue, type LedgerEntry } from '../../ledger/index.js';
import type { PageKey } from './experiment-pages.js';
import type { LedgerPin } from './ledger-reader.js';

const META = 'meta.json';
const ENTRIES = 'entries.jsonl';
const SRC_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(SRC_DIR, '..', '..');

export interface BuildState {
  /** the generator that wrote it (see generatorVersion): a page rendered by other code is not reused */
  generator: string;
  ledger: LedgerPin;
  /** experiment seq -> the key of the inputs its page was rendered from, and its size */
  pages: Record<string, PageKey>;
  /** table page number -> the key of its inputs, and the sizes of its HTML and API files */
  tables: Record<string, TableKey>;
  /** experiment seq -> diff text read from diffs/<name>.diff (matched the recorded sha256) */
  fileDiffs: Record<string, string>;
  /** result_recorded seq -> [shard index, line index], to read the full entry again */
  at: Record<string, [number, number]>;
  /** bytes of entries.jsonl that hold the reduced entries of ledger.entries */
  entriesBytes: number;
  /** the site it wrote: enough to redo only what depends on the build time when nothing was appended */
  site: SiteSummary;
  entries: CachedEntry[];
}

/**
 * A hash of everything that shapes the output besides the ledger: this folder's sources, the
 * site's assets, the ledger module (it reads the entries and computes balances), the result
 * schema and the rendering libraries' versions. Changed code re-renders every page.
 */
export function generatorVersion(): string {
  const h = createHash('sha256');
  const walk = (dir: string, recursive: boolean) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (recursive) walk(full, true);
      } else h.update(`${full.slice(ROOT.length)}\n`).update(readFileSync(full));
    }
  };
  walk(SRC_DIR, true);
  walk(join(ROOT, 'leaderboard', 'assets'), true);
  walk(join(ROOT, 'ledger'), false);
  h.update(readFileSync(join(ROOT, 'trainer', 'result.ts')));
  const require = createRequire(import.meta.url);
  for (const pkg of ['diff', 'uplot']) h.update(`${pkg}@${(require(`${pkg}/package.json`) as { version: string }).version}\n`);
  return h.digest('hex');
}

/**
 * A reduced entry whose inline diff was dropped (`diffDropped`): the diff is read from the ledger
 * again when a page that shows it is rendered (build.ts), so the cache does not carry 100,000 diffs.
 */
export type CachedEntry = LedgerEntry & { diffDropped?: 1 };

type Data = Record<string, unknown>;
const pick = (d: Data, keys: readonly string[]): Data => Object.fromEntries(keys.map((k) => [k, d[k]]));

/**
 * What the cache keeps of each entry's data: only the fields the model reads (experiments.ts,
 * contributors.ts, the ledger's computeBalances and longRunJobs). Every entry stays (the ledger
 * page counts them by type), most with a fraction of their data. Changing what any of those
 * functions read means changing this too; incremental.test.ts compares with a build from scratch.
 */
const KEEP: Partial<Record<string, readonly string[]>> = {
  // dispatch: the fallbacks of a result's class, repo and author
  job_dispatched: ['job_id', 'repo', 'author', 'hardware_class'],
  experiment_queued: [],
  experiment_dequeued: [],
  experiment_discarded: ['pr', 'sha', 'reason'],
  experiment_outdated: ['pr', 'sha', 'path', 'update'],
  // balances add amounts per login and look grants and reversals up by job
  credit_granted: ['login', 'amount', 'job_id'],
  credit_reversed: ['login', 'amount', 'job_id'],
};

/** The entry as the model needs it: what only an experiment's own page (or no page) shows is dropped. */
export function slimEntry(e: LedgerEntry): CachedEntry {
  if (e.type === 'result_recorded') {
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
      budget_seconds: r.budget_seconds,
      job: r.job && { repo: r.job.repo },
    };
    const inline = typeof d.diff === 'string';
    const slim = { seq: e.seq, time: e.time, type: e.type, data: { ...d, diff: null, result: result as typeof r, log_excerpt: null }, prev: '', hash: e.hash } as CachedEntry;
    if (inline) slim.diffDropped = 1;
    return slim;
  }
  let data = e.data as Data;
  const keep = KEEP[e.type];
  if (keep) data = pick(data, keep);
  else if (e.type === 'credit_spent') {
    // the reason matters only when it marks a long run (longRunJobs)
    const d = e.data as LedgerEntry<'credit_spent'>['data'];
    data = { login: d.login, amount: d.amount, job_id: d.job_id, reason: longRunIssue(d.reason) === null ? '' : d.reason };
  }
  return { seq: e.seq, time: e.time, type: e.type, data } as CachedEntry;
}

/** the key of a table page's inputs (see build.ts), and the bytes of experiments/page-N.html and api/v1/experiments/page-N.json */
export type TableKey = [string, number, number];

export interface SiteSummary {
  files: string[];
  bytes: number;
  indexBytes: number;
  experiments: number;
  byType: [string, number][];
  repo: string | null;
}

export type StateMeta = Omit<BuildState, 'entries'>;

/** What the last build left, but its entries, or why there is nothing this generator can use. */
export function readStateMeta(cacheDir: string, generator: string): { meta: StateMeta; why: null } | { meta: null; why: string } {
  const metaFile = join(cacheDir, META);
  if (!existsSync(metaFile)) return { meta: null, why: `${cacheDir} holds no state of an earlier build` };
  let meta: StateMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as StateMeta;
  } catch (e) {
    return { meta: null, why: `${metaFile} could not be read (${(e as Error).message})` };
  }
  if (meta.generator !== generator) return { meta: null, why: 'the generator (leaderboard/ or ledger/ sources, assets or rendering libraries) changed since the last build' };
  return { meta, why: null };
}

/** The cached entries of the build `meta` describes, or why they cannot be used. */
export function readStateEntries(cacheDir: string, meta: StateMeta): { state: BuildState; why: null } | { state: null; why: string } {
  const file = join(cacheDir, ENTRIES);
  const text = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  if (text.length < meta.entriesBytes) return { state: null, why: `${file} is shorter than the ${meta.entriesBytes} bytes the last build wrote` };
  // line by line from the bytes: no 190 MB string to decode and split first (~15% faster here)
  const entries: CachedEntry[] = [];
  try {
    for (let from = 0; from < meta.entriesBytes; ) {
      const end = text.indexOf(10, from);
      if (end < 0 || end >= meta.entriesBytes) throw new Error('the last line is cut short');
      entries.push(JSON.parse(text.toString('utf8', from, end)) as CachedEntry);
      from = end + 1;
    }
  } catch (e) {
    return { state: null, why: `${file} could not be read (${(e as Error).message})` };
  }
  if (entries.length !== meta.ledger.entries) return { state: null, why: `${file} holds ${entries.length} entries, not the ${meta.ledger.entries} the last build verified` };
  return { state: { ...meta, entries }, why: null };
}

/** Forgets the state: called before the out dir changes, so an interrupted build leaves none. */
export function dropState(cacheDir: string): void {
  rmSync(join(cacheDir, META), { force: true });
}

/**
 * Saves the state. `appended`: the reduced entries read by this build, added after the first
 * `prior` bytes of entries.jsonl (0: the file is written anew).
 */
export function writeState(cacheDir: string, state: Omit<BuildState, 'entries' | 'entriesBytes'>, appended: { entries: LedgerEntry[] }, prior: number): void {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, ENTRIES);
  const text = appended.entries.length ? appended.entries.map((e) => JSON.stringify(slimEntry(e))).join('\n') + '\n' : '';
  if (prior === 0) writeFileSync(file, text);
  else {
    // whatever an interrupted build appended after the valid bytes goes first
    if (statSync(file).size !== prior) writeFileSync(file, readFileSync(file).subarray(0, prior));
    appendFileSync(file, text);
  }
  const meta: Omit<BuildState, 'entries'> = { ...state, entriesBytes: prior + Buffer.byteLength(text) };
  const tmp = join(cacheDir, `${META}.tmp`);
  writeFileSync(tmp, JSON.stringify(meta));
  renameSync(tmp, join(cacheDir, META));
}
