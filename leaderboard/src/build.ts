// `leaderboard build <ledger checkout> <out dir> [--cache <dir>]`: ledger + archived diffs -> the
// static site and its JSON API. The ledger is verified first; a broken chain builds nothing.
// With a cache dir from an earlier build of the same out dir, the build is incremental: it
// verifies only the entries appended since, re-renders only the experiment pages whose inputs
// changed, rewrites the rest, and removes what a full build would not write: the same files.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeBalances, type LedgerEntry } from '../../ledger/index.js';
import { bestPerClass, repoUrl } from './api.js';
import { API_VERSION, type ApiContributors, type ApiIndex } from './api-schema.js';
import { dropState, generatorVersion, readStateEntries, readStateMeta, writeState, type BuildState, type StateMeta, type TableKey } from './build-state.js';
import { contributorsAndRunners } from './contributors.js';
import { writeExperimentPages } from './experiment-pages.js';
import { hardwareClasses, readExperiments, type Experiment } from './experiments.js';
import { hashPinnedBytes, readEntriesAt, readLedgerSince, readWholeLedger, type LedgerRead } from './ledger-reader.js';
import { contributorsPage } from './pages/contributors-page.js';
import { experimentsPage, PAGER_WINDOW, type TablePage } from './pages/experiments-page.js';
import { allExperiments } from './pages/experiments-table.js';
import { indexPage, RECENT } from './pages/index-page.js';
import { ledgerPage } from './pages/ledger-page.js';
import { classSlugs, pageCount, paths, PER_PAGE } from './paths.js';
import { progressFor } from './progress.js';
import { classStories, recordHistory } from './records.js';
import { recordsPage } from './pages/records-page.js';
import { SiteWriter } from './site-writer.js';

/** A file at the root of every built site, so a rebuild only ever deletes a folder it made itself. */
export const SITE_MARKER = '.leaderboard-site';

const require = createRequire(import.meta.url);
const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');
const VENDORED: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
};
/** uPlot's stylesheet goes at the head of site.css: one link a page (100,000 pages, 5 MB less) */
const VENDORED_CSS = 'uplot/dist/uPlot.min.css';

export interface BuildReport {
  experiments: number;
  entries: number;
  head: { seq: number; hash: string };
  /** incremental: only the entries appended since the cached build were read and verified */
  mode: 'full' | 'incremental';
  /** why a build given a cache dir was a full one (no cache, generator changed, ledger rewritten...) */
  fullBecause: string | null;
  /** experiment pages rendered, and kept from the last build */
  rendered: number;
  kept: number;
  /** verified ledger shards not read again because git vouched for their bytes (a clean git checkout) */
  shardsPinnedByGit: number;
  /** numbered table pages (experiments/page-N.html with its api/v1/experiments/page-N.json) rendered, and kept */
  tables: { rendered: number; kept: number };
  /** files written, and files removed because the ledger no longer yields them */
  files: number;
  removed: number;
  /** bytes of the whole site */
  bytes: number;
  indexBytes: number;
  ms: number;
  /** CPU time (user + system) the build used: its wall time on an idle core, less I/O waits */
  cpuMs: number;
  /** wall and CPU milliseconds per phase, in build order */
  phases: Record<string, { wallMs: number; cpuMs: number }>;
}

export interface BuildOptions {
  /** the build time shown on the ledger page and in api/v1/index.json */
  now?: Date;
  /** where the build keeps what the next one needs to be incremental (not part of the site) */
  cacheDir?: string;
  /** experiments per table and API page (tests use small pages to get many) */
  perPage?: number;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

const markerText = (head: { seq: number; hash: string }) =>
  `Built by \`npm run leaderboard -- build\` from ledger entry ${head.seq} ${head.hash}; the next build replaces this folder.\n`;

/** Refuses to empty a folder that is not an earlier build (a mistyped out dir must not lose files). */
async function prepareOutDir(out: string): Promise<void> {
  if (!existsSync(out)) return;
  const names = readdirSync(out);
  if (names.length === 0) return;
  if (!names.includes(SITE_MARKER)) {
    throw new Error(`${out} already holds files that are not a leaderboard build (no ${SITE_MARKER}); give an empty or new folder as the out dir.`);
  }
  await rm(out, { recursive: true, force: true });
}

type Since = { prior: BuildState | null; read: LedgerRead; why: string | null; unchanged: StateMeta | null };

/**
 * The cached state of the build now in `out` and the ledger read since it, or a full read and
 * why. When nothing was appended, `unchanged` holds the state's summary and its entries are not
 * parsed (the caller may not need them).
 */
function readSince(cacheDir: string, out: string, ledger: string, generator: string): Since {
  const full = (why: string): Since => ({ prior: null, read: readWholeLedger(ledger, why), why, unchanged: null });
  const found = readStateMeta(cacheDir, generator);
  if (!found.meta) return full(found.why);
  const meta = found.meta;
  const marker = join(out, SITE_MARKER);
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== markerText(meta.ledger.head)) {
    return full(`${out} is not the build the cache describes (its ${SITE_MARKER} names another ledger head, or is missing)`);
  }
  const read = readLedgerSince(ledger, meta.ledger, hashPinnedBytes(ledger, meta.ledger));
  if (read.fullBecause) return { prior: null, read, why: read.fullBecause, unchanged: null };
  const cached = read.entries.length === 0 ? null : readStateEntries(cacheDir, meta);
  if (!cached) return { prior: null, read, why: null, unchanged: meta };
  if (!cached.state) return full(cached.why);
  return { prior: cached.state, read, why: null, unchanged: null };
}

/**
 * With nothing appended since the cached build, only what shows the build time changes
 * (api/v1/index.json and the ledger page): those two are rewritten, when the out dir still holds
 * exactly the files that build wrote. Null when it does not (the caller builds incrementally).
 */
function rewriteBuildTime(out: string, meta: StateMeta, now: string): { files: number } | null {
  const existing = filesIn(out);
  if (existing.size !== meta.site.files.length || !meta.site.files.every((f) => existing.has(f))) return null;
  let index: ApiIndex;
  try {
    index = JSON.parse(readFileSync(join(out, paths.apiIndex), 'utf8')) as ApiIndex;
  } catch {
    return null;
  }
  const w = new SiteWriter(out);
  w.json(paths.apiIndex, { ...index, generated_at: now });
  w.write(paths.ledger, ledgerPage(meta.ledger.head, meta.ledger.head.time, new Map(meta.site.byType), now, meta.site.repo));
  return { files: w.files };
}

/** The files under `out`, as paths relative to it. */
function filesIn(out: string): Set<string> {
  const found = new Set<string>();
  for (const d of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (d.isFile()) found.add(join(d.parentPath, d.name).slice(out.length + 1));
  }
  return found;
}

export async function buildSite(ledgerDir: string, outDir: string, opts: BuildOptions = {}): Promise<BuildReport> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const phases: BuildReport['phases'] = {};
  let last = t0;
  let lastCpu = process.cpuUsage();
  const lap = (name: string) => {
    const t = performance.now();
    phases[name] = { wallMs: Math.round(t - last), cpuMs: Math.round(cpuMs(process.cpuUsage(lastCpu))) };
    last = t;
    lastCpu = process.cpuUsage();
  };
  const ledger = resolve(ledgerDir);
  const out = resolve(outDir);
  const cacheDir = opts.cacheDir ? resolve(opts.cacheDir) : null;
  if (cacheDir && (cacheDir === out || cacheDir.startsWith(out + sep) || out.startsWith(cacheDir + sep))) {
    throw new Error(`The cache dir ${cacheDir} and the out dir ${out} overlap: the cache would be published and the build would delete it. Give a cache dir beside the out dir, e.g. ${out}-cache.`);
  }
  const generator = cacheDir ? generatorVersion() : '';
  let prior: BuildState | null = null;
  let fullBecause: string | null = null;
  let read: LedgerRead;
  const now = (opts.now ?? new Date()).toISOString();
  if (cacheDir) {
    let unchanged: StateMeta | null;
    ({ prior, read, why: fullBecause, unchanged } = readSince(cacheDir, out, ledger, generator));
    if (unchanged) {
      const done = rewriteBuildTime(out, unchanged, now);
      if (done) {
        lap('read + verify new ledger entries (none)');
        const s = unchanged.site;
        const head = { seq: unchanged.ledger.head.seq, hash: unchanged.ledger.head.hash };
        const tables = Object.keys(unchanged.tables).length;
        return { experiments: s.experiments, entries: unchanged.ledger.entries, head, mode: 'incremental', fullBecause: null, shardsPinnedByGit: read.byGit, rendered: 0, kept: s.experiments, tables: { rendered: 0, kept: tables }, files: done.files, removed: 0, bytes: s.bytes, indexBytes: s.indexBytes, ms: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(cpu0)), phases };
      }
      // the out dir differs from what the cache says it wrote: an incremental build sorts it out
      const cached = readStateEntries(cacheDir, unchanged);
      if (cached.state) prior = cached.state;
      else {
        fullBecause = cached.why;
        read = readWholeLedger(ledger, cached.why);
      }
    }
  } else read = readWholeLedger(ledger);
  // The model: the cached entries (reduced) and the new ones, or every entry on a full build.
  const entries: LedgerEntry[] = prior ? prior.entries.concat(read.entries) : read.entries;
  const at: Record<string, [number, number]> = prior ? prior.at : {};
  read.entries.forEach((e, i) => {
    if (e.type === 'result_recorded') at[e.seq] = read.at[i];
  });
  const firstRead = read.entries.length ? read.entries[0].seq : Infinity;
  const head = { seq: read.pin.head.seq, hash: read.pin.head.hash };
  lap(prior ? 'read + verify new ledger entries' : 'read + verify ledger');
  // From here the out dir changes: a state left behind by an interrupted build would describe
  // pages that were since rewritten, so it goes now and is written again at the end.
  if (cacheDir) dropState(cacheDir);
  if (!prior) await prepareOutDir(out);
  const w = new SiteWriter(out);
  w.write(SITE_MARKER, markerText(head));
  w.write('.nojekyll', '');
  for (const name of readdirSync(ASSETS_DIR)) {
    const bytes = readFileSync(join(ASSETS_DIR, name));
    w.write(paths.asset(name), name === 'site.css' ? Buffer.concat([readFileSync(require.resolve(VENDORED_CSS)), Buffer.from('\n'), bytes]) : bytes);
  }
  for (const [name, mod] of Object.entries(VENDORED)) w.write(paths.asset(name), readFileSync(require.resolve(mod)));

  const view = readExperiments(entries);
  const classes = hardwareClasses(view.experiments, view.baselines);
  const slugs = classSlugs(classes);
  lap('assets + model');

  // One page per experiment, with its diff; the API objects come back from the same pass.
  // (Worker threads were tried: on the 2 shared cores here they made this phase 2-4x slower.)
  // the result entries of experiments the cache holds reduced, read again from the ledger
  const fromLedger = (list: readonly { seq: number }[]) => {
    const old = list.filter((e) => e.seq < firstRead);
    const read = readEntriesAt(ledger, old.map((e) => at[e.seq])) as LedgerEntry<'result_recorded'>[];
    return new Map(read.map((x) => [x.seq, x.data]));
  };
  const full = (list: Experiment[]): Experiment[] => {
    const bySeq = fromLedger(list);
    return list.map((e) => {
      const d = bySeq.get(e.seq);
      return d ? { ...e, result: d.result, log_excerpt: d.log_excerpt, diff: d.diff ?? null } : e;
    });
  };
  // what the last build left: a page is kept only if it is still there
  const existing = prior ? filesIn(out) : new Set<string>();
  const diffDropped = new Set<number>();
  if (prior) for (const e of prior.entries) if (e.diffDropped) diffDropped.add(e.seq);
  const done = writeExperimentPages({ ledgerDir: ledger, outDir: out, experiments: view.experiments, closedJobs: view.closedJobs, prior: prior && { ...prior, existing }, full, diffDropped });
  const api = done.api;
  lap('experiment pages');

  // Table and API pages, anchored at the oldest experiment (paths.ts): a page is rendered again
  // only when its key changes: the keys of its experiments (which cover their API objects, hence
  // their rows), its number and what its pager links to. The newest page is also
  // experiments/index.html, rewritten on every build (it names the head and the total).
  const perPage = opts.perPage ?? PER_PAGE;
  const pages = pageCount(api.length, perPage);
  const tables: Record<string, TableKey> = {};
  const keptTables: string[] = [];
  let keptTableBytes = 0;
  const render: { t: TablePage; key: string; from: number; to: number }[] = [];
  const kept = (n: number, key: string) => {
    const before = prior?.tables[n];
    return before && before[0] === key && existing.has(paths.experimentsPage(n)) && existing.has(paths.apiExperimentsPage(n)) ? before : null;
  };
  for (let n = 1; n <= pages; n++) {
    const from = (n - 1) * perPage;
    const to = Math.min(api.length, from + perPage);
    const t: TablePage = { n, lastLinked: Math.min(pages, n + PAGER_WINDOW), newest: n === pages };
    const h = createHash('sha256').update(`${n} ${t.lastLinked} ${t.newest} ${perPage} ${JSON.stringify(classes)}\n`);
    for (let i = from; i < to; i++) h.update(done.pages[view.experiments[i].seq][0]);
    const key = h.digest('base64url');
    const before = kept(n, key);
    if (before) {
      tables[n] = before;
      keptTables.push(paths.experimentsPage(n), paths.apiExperimentsPage(n));
      keptTableBytes += before[1] + before[2];
    } else render.push({ t, key, from, to });
  }
  const best = bestPerClass(classes, slugs, api, view.baselines);
  // the API pages written and best.json show diffs: those the cache dropped are read from the ledger
  const wanted = render.flatMap(({ from, to }) => api.slice(from, to));
  for (const k of best.classes) if (k.best) wanted.push(k.best);
  const dropped = wanted.filter((a) => a.diff === null && diffDropped.has(a.id)).map((a) => ({ seq: a.id, a }));
  const texts = fromLedger(dropped);
  for (const { seq, a } of dropped) a.diff = texts.get(seq)?.diff ?? null;
  for (const { t, key, from, to } of render) {
    const rows = api.slice(from, to);
    const json = JSON.stringify({ schema_version: API_VERSION, page: t.n, per_page: perPage, order: 'oldest_first', experiments: rows });
    const page = experimentsPage(t, rows.slice().reverse(), perPage, null, classes);
    w.write(paths.apiExperimentsPage(t.n), json);
    w.write(paths.experimentsPage(t.n), page);
    tables[t.n] = [key, Buffer.byteLength(page), Buffer.byteLength(json)];
  }
  const tablesRendered = render.length;
  // the table's default view: the newest experiments (a page's worth, across the last two pages)
  // under a name that does not move; it names the head and the total, so it is rewritten on every build
  const newest = api.slice(-perPage).reverse();
  w.write(paths.experimentsNewest, experimentsPage({ n: pages, lastLinked: pages, newest: true }, newest, perPage, { head, total: api.length }, classes));
  // every row, compact, for the table's filter and sort across all pages (site.js)
  w.write(paths.experimentsAll, allExperiments(api, classes));

  lap('table pages + api pages');
  for (const cls of classes) w.json(paths.apiProgress(slugs.get(cls) as string), progressFor(cls, view.experiments, view.baselines, view.merges));
  w.json(paths.apiBest, best);

  const people = contributorsAndRunners(entries, view.experiments, computeBalances(entries));
  const contributors: ApiContributors = { schema_version: API_VERSION, ...people };
  w.json(paths.apiContributors, contributors);
  w.write(paths.contributors, contributorsPage(contributors, head, repoUrl(view.experiments.find((e) => e.repo)?.repo ?? null)));

  const counts = { experiments: api.length, merged: 0, discarded: 0, pending: 0, failed: 0, rejected: 0, contributors: people.contributors.length, runners: people.runners.length };
  for (const a of api) counts[a.status]++;
  const index: ApiIndex = {
    schema_version: API_VERSION,
    generated_at: now,
    ledger: { seq: head.seq, hash: head.hash, entries: entries.length },
    counts,
    experiments_pages: pages,
    newest_page: pages,
    per_page: perPage,
    links: {
      experiments_page: paths.apiExperimentsPage('{n}'),
      best: paths.apiBest,
      contributors: paths.apiContributors,
      progress: Object.fromEntries(classes.map((c) => [c, paths.apiProgress(slugs.get(c) as string)])),
    },
  };
  w.json(paths.apiIndex, index);
  const repo = repoUrl(view.experiments.find((e) => e.repo)?.repo ?? null);
  const records = recordHistory(view.merges, api);
  const stories = classStories(classes, view.baselines, records);
  w.write(paths.records, recordsPage(records, stories, head));
  const indexHtml = indexPage(index, best, api.slice(-RECENT).reverse(), head, repo, records, stories);
  w.write(paths.index, indexHtml);

  const byType = new Map<string, number>();
  for (const e of entries) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  w.write(paths.ledger, ledgerPage(head, read.pin.head.time, byType, now, repo));
  lap('progress, best, contributors, index, ledger');

  // files of the last build that a build from scratch would not write (experiments that are gone)
  let removed = 0;
  if (prior) {
    const keep = new Set([...w.written, ...done.written, ...done.kept, ...keptTables]);
    for (const rel of existing) {
      if (keep.has(rel)) continue;
      rmSync(join(out, rel));
      removed++;
    }
  }
  const bytes = w.bytes + done.bytes + done.keptBytes + keptTableBytes;
  if (cacheDir) {
    const files = [...w.written, ...done.written, ...done.kept, ...keptTables];
    const site = { files, bytes, indexBytes: Buffer.byteLength(indexHtml), experiments: api.length, byType: [...byType], repo };
    writeState(cacheDir, { generator, ledger: read.pin, pages: done.pages, tables, fileDiffs: done.fileDiffs, at, site }, read, prior ? prior.entriesBytes : 0);
  }
  lap(prior ? 'remove stale files, save cache' : 'save cache');
  return {
    experiments: api.length,
    entries: entries.length,
    head,
    mode: prior ? 'incremental' : 'full',
    fullBecause,
    shardsPinnedByGit: read.byGit,
    rendered: done.rendered,
    kept: done.keptPages,
    tables: { rendered: tablesRendered, kept: keptTables.length / 2 },
    files: w.files + done.files,
    removed,
    bytes,
    indexBytes: Buffer.byteLength(indexHtml),
    ms: performance.now() - t0,
    cpuMs: cpuMs(process.cpuUsage(cpu0)),
    phases,
  };
}
