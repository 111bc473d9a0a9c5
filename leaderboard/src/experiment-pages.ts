// One HTML page per experiment, with its archived diff rendered: the build's largest phase. A page
// is rendered only when its key changed since the last build: the key covers the result entry's
// hash (which pins what the App recorded: result, log, inline diff), the experiment's API object
// without its diff (status, verification, baseline, delta: what later entries can change) and a
// diff read from a file. The key leaves the inline diff to the hash, so that it is the same when
// the model comes from the cache, which does not keep inline diffs.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { diffFileName, toApiExperiment } from './api.js';
import type { ApiExperiment } from './api-schema.js';
import { compactCurve } from './curve.js';
import { renderDiff } from './diff.js';
import type { ClosedJob, Experiment } from './experiments.js';
import { experimentPage, type DiffView, type Neighbours } from './pages/experiment-page.js';
import { paths } from './paths.js';
import { SiteWriter } from './site-writer.js';

export interface PagesJob {
  ledgerDir: string;
  outDir: string;
  experiments: Experiment[];
  /** PR jobs closed without a run: each experiment page of a PR lists its PR's (in its key) */
  closedJobs: readonly ClosedJob[];
  /** from the last build: page keys and sizes, diffs it read from files, and the files in the out dir; null for a full build */
  prior: { pages: Record<string, PageKey>; fileDiffs: Record<string, string>; existing: ReadonlySet<string> } | null;
  /** the full records of these experiments (the model may hold them without loss curve, log and inline diff) */
  full: (experiments: Experiment[]) => Experiment[];
  /** experiments (seq) whose inline diff the model does not hold: their API object's diff is null until filled in */
  diffDropped: ReadonlySet<number>;
}

/** the key of a page's inputs, the page's size in bytes, and the size of its loss curve file (0: none) */
export type PageKey = [string, number, number];

export interface PagesDone {
  /** same order as the experiments; diff null where it was dropped (job.diffDropped) */
  api: ApiExperiment[];
  pages: Record<string, PageKey>;
  fileDiffs: Record<string, string>;
  /** site paths of the files kept from the last build: pages and their curve files */
  kept: string[];
  /** how many experiment pages were kept */
  keptPages: number;
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
    // a checkout can hold a symbolic link: one leading out of the ledger dir is not followed (it
    // would publish a file of the machine that builds the site)
    const file = join(ledgerDir, 'diffs', name);
    const real = realpathSync(file);
    if (!real.startsWith(realpathSync(ledgerDir) + sep)) return missing(`The archived diff ${e.diff_path} is a symbolic link out of the ledger checkout; it is not followed.`);
    text = readFileSync(real, 'utf8');
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
  let keptPages = 0;
  let keptBytes = 0;
  const todo: { e: Experiment; a: ApiExperiment; diff: Diff; key: string; n: Neighbours }[] = [];
  const bySeq = new Map<number, ApiExperiment>();
  const closedOf = new Map<number, Neighbours['closed']>();
  for (const c of job.closedJobs) {
    const list = closedOf.get(c.pr) ?? [];
    list.push({ time: c.time, sha: c.sha, reason: c.reason });
    closedOf.set(c.pr, list);
  }
  job.experiments.forEach((e, i) => {
    const diff = readDiff(job.ledgerDir, e, job.prior?.fileDiffs[e.seq], job.diffDropped.has(e.seq));
    if (diff.fromFile && diff.text !== null) fileDiffs[e.seq] = diff.text;
    const a = toApiExperiment(e, null);
    const json = JSON.stringify(a);
    a.diff = diff.text;
    api.push(a);
    bySeq.set(e.seq, a);
    const rec = e.previous_record === null ? undefined : bySeq.get(e.previous_record);
    const n: Neighbours = {
      prev: i > 0 ? job.experiments[i - 1].seq : null,
      next: i + 1 < job.experiments.length ? job.experiments[i + 1].seq : null,
      record: rec ? { id: rec.id, pr: rec.pr, val_bpb: rec.val_bpb } : null,
      closed: (e.pr !== null && closedOf.get(e.pr)) || [],
    };
    // the page shows its neighbours, the record it is compared with and its PR's closed jobs: they are in its key
    const key = createHash('sha256').update(`${e.hash}\n${json}\n${diff.view.kind === 'missing' ? diff.view.why : ''}\n${diff.fromFile ? diff.text : ''}\n${JSON.stringify(n)}`).digest('base64url');
    const before = job.prior?.pages[e.seq];
    const curve = paths.curve(e.seq);
    if (before && before[0] === key && job.prior?.existing.has(a.url) && (before[2] === 0 || job.prior.existing.has(curve))) {
      pages[e.seq] = before;
      keptPages++;
      kept.push(a.url);
      keptBytes += before[1];
      if (before[2]) {
        kept.push(curve);
        keptBytes += before[2];
      }
    } else todo.push({ e, a, diff, key, n });
  });
  const full = job.full(todo.map((t) => t.e));
  todo.forEach(({ e, a, diff, key, n }, i) => {
    // a dropped inline diff comes back with the full record
    const text = diff.text ?? full[i].diff;
    const view: DiffView = diff.view.kind === 'text' ? { kind: 'rendered', markup: renderDiff(text as string) } : diff.view;
    const page = experimentPage(a, full[i], view, n);
    w.write(a.url, page);
    const points = full[i].result?.loss_curve ?? [];
    let curveBytes = 0;
    if (points.length) {
      const json = JSON.stringify(compactCurve(points));
      w.write(paths.curve(e.seq), json);
      curveBytes = Buffer.byteLength(json);
    }
    pages[e.seq] = [key, Buffer.byteLength(page), curveBytes];
  });
  return { api, pages, fileDiffs, kept, keptPages, keptBytes, written: w.written, rendered: todo.length, files: w.files, bytes: w.bytes };
}
