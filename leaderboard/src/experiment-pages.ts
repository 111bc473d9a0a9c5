// One HTML page per experiment, with its archived diff rendered: the build's largest phase. A page
// is rendered only when its key changed since the last build: the key covers the result entry's
// hash (which pins what the App recorded: result, log, inline diff), the experiment's API object
// without its diff (status, verification, baseline, delta: what later entries can change) and a
// diff read from a file. The key leaves the inline diff to the hash, so that it is the same when
// the model comes from the cache, which does not keep inline diffs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffFileName, toApiExperiment } from './api.js';
import type { ApiExperiment } from './api-schema.js';
import { renderDiff } from './diff.js';
import type { Experiment } from './experiments.js';
import { experimentPage, type DiffView } from './pages/experiment-page.js';
import { SiteWriter } from './site-writer.js';

export interface PagesJob {
  ledgerDir: string;
  outDir: string;
  experiments: Experiment[];
  /** from the last build: page keys and sizes, diffs it read from files, and the files in the out dir; null for a full build */
  prior: { pages: Record<string, PageKey>; fileDiffs: Record<string, string>; existing: ReadonlySet<string> } | null;
  /** the full records of these experiments (the model may hold them without loss curve, log and inline diff) */
  full: (experiments: Experiment[]) => Experiment[];
  /** experiments (seq) whose inline diff the model does not hold: their API object's diff is null until filled in */
  diffDropped: ReadonlySet<number>;
}

/** the key of a page's inputs, and the page's size in bytes */
export type PageKey = [string, number];

export interface PagesDone {
  /** same order as the experiments; diff null where it was dropped (job.diffDropped) */
  api: ApiExperiment[];
  pages: Record<string, PageKey>;
  fileDiffs: Record<string, string>;
  /** site paths of the pages kept from the last build */
  kept: string[];
  keptBytes: number;
  /** site paths of the pages rendered */
  written: string[];
  rendered: number;
  files: number;
  bytes: number;
}

type Diff = { view: Exclude<DiffView, { kind: 'rendered' }> | { kind: 'text' }; text: string | null; fromFile: boolean };

function readDiff(ledgerDir: string, e: Experiment, known: string | undefined, dropped: boolean): Diff {
  // An inline diff is covered by the entry's hash; a file is checked against the recorded sha256.
  if (e.diff !== null || dropped) return { view: { kind: 'text' }, text: e.diff, fromFile: false };
  if (known !== undefined) return { view: { kind: 'text' }, text: known, fromFile: true };
  const name = diffFileName(e.diff_path);
  const missing = (why: string): Diff => ({ view: { kind: 'missing', why }, text: null, fromFile: false });
  if (!e.diff_path) return missing('No diff was archived for this run.');
  if (!name) return missing(`The ledger names the diff as "${e.diff_path}", which is not a diffs/<name>.diff path; it is not shown.`);
  let text: string;
  try {
    text = readFileSync(join(ledgerDir, 'diffs', name), 'utf8');
  } catch {
    return missing(`The archived diff ${e.diff_path} is missing from the ledger checkout.`);
  }
  if (e.diff_sha256 && createHash('sha256').update(text).digest('hex') !== e.diff_sha256) {
    return missing(`The archived diff ${e.diff_path} does not match the sha256 recorded in the ledger (${e.diff_sha256}); it is not shown.`);
  }
  return { view: { kind: 'text' }, text, fromFile: true };
}

export function writeExperimentPages(job: PagesJob): PagesDone {
  const w = new SiteWriter(job.outDir);
  const api: ApiExperiment[] = [];
  const pages: Record<string, PageKey> = {};
  const fileDiffs: Record<string, string> = {};
  const kept: string[] = [];
  let keptBytes = 0;
  const todo: { e: Experiment; a: ApiExperiment; diff: Diff; key: string }[] = [];
  for (const e of job.experiments) {
    const diff = readDiff(job.ledgerDir, e, job.prior?.fileDiffs[e.seq], job.diffDropped.has(e.seq));
    if (diff.fromFile && diff.text !== null) fileDiffs[e.seq] = diff.text;
    const a = toApiExperiment(e, null);
    const json = JSON.stringify(a);
    a.diff = diff.text;
    api.push(a);
    const key = createHash('sha256').update(`${e.hash}\n${json}\n${diff.view.kind === 'missing' ? diff.view.why : ''}\n${diff.fromFile ? diff.text : ''}`).digest('base64url');
    const before = job.prior?.pages[e.seq];
    if (before && before[0] === key && job.prior?.existing.has(a.url)) {
      pages[e.seq] = before;
      kept.push(a.url);
      keptBytes += before[1];
    } else todo.push({ e, a, diff, key });
  }
  const full = job.full(todo.map((t) => t.e));
  todo.forEach(({ e, a, diff, key }, i) => {
    // a dropped inline diff comes back with the full record
    const text = diff.text ?? full[i].diff;
    const view: DiffView = diff.view.kind === 'text' ? { kind: 'rendered', markup: renderDiff(text as string) } : diff.view;
    const page = experimentPage(a, full[i], view);
    w.write(a.url, page);
    pages[e.seq] = [key, Buffer.byteLength(page)];
  });
  return { api, pages, fileDiffs, kept, keptBytes, written: w.written, rendered: todo.length, files: w.files, bytes: w.bytes };
}
