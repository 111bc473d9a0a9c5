// `leaderboard build <ledger checkout> <out dir>`: ledger + archived diffs -> the static site and
// its JSON API. The ledger is verified first; a broken chain builds nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeBalances, readHeadFile, readLedgerDir, verifyChain, type LedgerEntry } from '../../ledger/index.js';
import { bestPerClass, repoUrl } from './api.js';
import { API_VERSION, type ApiContributors, type ApiIndex } from './api-schema.js';
import { contributorsAndRunners } from './contributors.js';
import { writeExperimentPages } from './experiment-pages.js';
import { hardwareClasses, readExperiments } from './experiments.js';
import { contributorsPage } from './pages/contributors-page.js';
import { experimentsPage } from './pages/experiments-page.js';
import { indexPage, RECENT } from './pages/index-page.js';
import { ledgerPage } from './pages/ledger-page.js';
import { classSlugs, pageCount, paths, PER_PAGE } from './paths.js';
import { progressFor } from './progress.js';
import { SiteWriter } from './site-writer.js';

/** A file at the root of every built site, so a rebuild only ever deletes a folder it made itself. */
export const SITE_MARKER = '.leaderboard-site';

const require = createRequire(import.meta.url);
const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');
const VENDORED: Record<string, string> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
  'diff2html.min.css': 'diff2html/bundles/css/diff2html.min.css',
};

export interface BuildReport {
  experiments: number;
  entries: number;
  head: { seq: number; hash: string };
  files: number;
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
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

export function loadLedger(dir: string): { entries: LedgerEntry[]; head: { seq: number; hash: string; time: string } } {
  const entries = readLedgerDir(dir);
  if (entries.length === 0) throw new Error(`${dir} holds no ledger entries yet; the site is built once the App has appended the first one.`);
  const headFile = readHeadFile(dir);
  const check = verifyChain(entries, headFile ? { seq: headFile.seq, hash: headFile.hash } : undefined);
  if (!check.ok) {
    throw new Error(`The ledger in ${dir} fails verification at seq ${check.seq}: ${check.problem}. Nothing was built; run \`npm run ledger -- verify ${dir}\` for the full report.`);
  }
  const last = entries[entries.length - 1];
  if (headFile && headFile.seq !== last.seq) {
    throw new Error(`${dir}/HEAD.json names seq ${headFile.seq} but the shards end at seq ${last.seq}: the checkout is incomplete or HEAD.json is stale. Check out the ledger branch again; nothing was built.`);
  }
  return { entries, head: { seq: last.seq, hash: last.hash, time: last.time } };
}

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
  const { entries, head: headFull } = loadLedger(ledger);
  lap('read + verify ledger');
  const head = { seq: headFull.seq, hash: headFull.hash };
  const now = (opts.now ?? new Date()).toISOString();
  await prepareOutDir(out);
  const w = new SiteWriter(out);
  w.write(SITE_MARKER, 'Built by `npm run leaderboard -- build`; the next build replaces this folder.\n');
  w.write('.nojekyll', '');
  for (const name of readdirSync(ASSETS_DIR)) w.write(paths.asset(name), readFileSync(join(ASSETS_DIR, name)));
  for (const [name, mod] of Object.entries(VENDORED)) w.write(paths.asset(name), readFileSync(require.resolve(mod)));

  const view = readExperiments(entries);
  const classes = hardwareClasses(view.experiments, view.baselines);
  const slugs = classSlugs(classes);
  lap('assets + model');

  // One page per experiment, with its diff; the API objects come back from the same pass.
  // (Worker threads were tried: on the 2 shared cores here they made this phase 2-4x slower.)
  const done = writeExperimentPages({ ledgerDir: ledger, outDir: out, head, experiments: view.experiments });
  const api = done.api;
  w.files += done.files;
  w.bytes += done.bytes;

  lap('experiment pages');
  const newestFirst = api.slice().reverse();
  const pages = pageCount(newestFirst.length);
  for (let n = 1; n <= pages; n++) {
    const rows = newestFirst.slice((n - 1) * PER_PAGE, n * PER_PAGE);
    w.json(paths.apiExperimentsPage(n), { schema_version: API_VERSION, page: n, pages, per_page: PER_PAGE, total: api.length, order: 'newest_first', experiments: rows });
    w.write(paths.experimentsPage(n), experimentsPage(n, pages, api.length, rows, head));
  }

  lap('table pages + api pages');
  for (const cls of classes) w.json(paths.apiProgress(slugs.get(cls) as string), progressFor(cls, view.experiments, view.baselines, view.merges));
  const best = bestPerClass(classes, slugs, api, view.baselines);
  w.json(paths.apiBest, best);

  const people = contributorsAndRunners(entries, view.experiments, computeBalances(entries));
  const contributors: ApiContributors = { schema_version: API_VERSION, ...people };
  w.json(paths.apiContributors, contributors);
  w.write(paths.contributors, contributorsPage(contributors, head));

  const counts = { experiments: api.length, merged: 0, discarded: 0, pending: 0, failed: 0, rejected: 0, contributors: people.contributors.length, runners: people.runners.length };
  for (const a of api) counts[a.status]++;
  const index: ApiIndex = {
    schema_version: API_VERSION,
    generated_at: now,
    ledger: { seq: head.seq, hash: head.hash, entries: entries.length },
    counts,
    experiments_pages: pages,
    per_page: PER_PAGE,
    links: {
      experiments_page: paths.apiExperimentsPage('{n}'),
      best: paths.apiBest,
      contributors: paths.apiContributors,
      progress: Object.fromEntries(classes.map((c) => [c, paths.apiProgress(slugs.get(c) as string)])),
    },
  };
  w.json(paths.apiIndex, index);
  const repo = repoUrl(view.experiments.find((e) => e.repo)?.repo ?? null);
  const indexHtml = indexPage(index, best, newestFirst.slice(0, RECENT), head, repo);
  w.write(paths.index, indexHtml);

  const byType = new Map<string, number>();
  for (const e of entries) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  w.write(paths.ledger, ledgerPage(head, headFull.time, byType, now, repo));
  lap('progress, best, contributors, index, ledger');
  return { experiments: api.length, entries: entries.length, head, files: w.files, bytes: w.bytes, indexBytes: Buffer.byteLength(indexHtml), ms: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(cpu0)), phases };
}
