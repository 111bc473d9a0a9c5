// npm run bench:leaderboard [-- 1000,10000]: build time and output size of the site for simulated
// ledgers of 1,000, 10,000 and 100,000 experiments with real-size entries (256-point loss curves,
// ~40-line diffs: sample-ledger.ts's defaults); target at 100,000: the site under GitHub Pages' 1 GB: a cold build (no cache: what pages.yml does on
// a cache miss), then an incremental one after 100 more experiments (what it does on each ledger
// push), then one with nothing new (a scheduled rebuild). Targets at 100,000: index.html < 500 KB
// and the build < 10 s. Each build runs in a process of its own, as in the workflow (a heap left
// by the simulation would slow it down). With LEADERBOARD_BENCH_KEEP=1 the folders are kept, with
// the cache and site marker as the cold build left them (cache-cold/, marker-cold): copy them
// back over cache/ and site/.leaderboard-site to time the incremental build again (`-- --one`).
// The ledger dir is a git repository with each version committed, as pages.yml's checkout of the
// ledger branch is (verified shards are then pinned by blob id); LEADERBOARD_BENCH_GIT=0: a plain dir.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLedgerDir } from '../../ledger/index.js';
import { buildSite, type BuildReport } from './build.js';
import { sampleLedger } from './sample-ledger.js';

if (process.argv[2] === '--one') {
  const [ledger, site, cache] = process.argv.slice(3);
  console.log(JSON.stringify(await buildSite(ledger, site, { cacheDir: cache })));
  process.exit(0);
}

/** One build in a fresh process (tsx, as `npm run leaderboard` runs it). */
function build(ledger: string, site: string, cache: string): BuildReport {
  const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1], '--one', ledger, site, cache], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() as string) as BuildReport;
}

const keep = process.env.LEADERBOARD_BENCH_KEEP === '1';
const useGit = process.env.LEADERBOARD_BENCH_GIT !== '0';
/** Commits the ledger dir as it is now (no compression: this is setup, not what is measured). */
function commit(dir: string): void {
  if (!useGit) return;
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'core.compression=0', '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'ledger');
}
const sizes = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
const MORE = 100;
const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const s = (ms: number) => (ms / 1000).toFixed(2);

function dirBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, f));
    if (st.isFile()) total += st.size;
  }
  return total;
}

function row(n: number, what: string, r: BuildReport, cache: string): void {
  console.log(`${n} | ${what} | ${r.entries} | ${s(r.ms)} | ${s(r.cpuMs)} | ${r.rendered} / ${r.kept} | ${r.files} | ${MB(r.bytes)} (${(r.bytes / r.experiments / 1000).toFixed(1)} KB an experiment) | ${(r.indexBytes / 1024).toFixed(0)} KB | ${MB(dirBytes(cache))}`);
  console.log(`    shards pinned by git blob id: ${r.shardsPinnedByGit}; table pages rendered / kept: ${r.tables.rendered} / ${r.tables.kept}; phases, wall/CPU s: ${Object.entries(r.phases).map(([k, v]) => `${k} ${s(v.wallMs)}/${s(v.cpuMs)}`).join(', ')}`);
}

// This machine is shared: wall time depends on the load, so the CPU time is printed beside it.
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores; ledger ${useGit ? 'a git checkout' : 'a plain dir'}`);
console.log('experiments | build | ledger entries | wall s | CPU s | pages rendered / kept | files written | site size | index.html | cache size');
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'lb-bench-'));
  try {
    const t0 = performance.now();
    const sample = sampleLedger({ experiments: n + MORE });
    // the ledger as it was MORE experiments ago: up to the dispatch of experiment n+1
    let seen = 0;
    const cut = sample.entries.findIndex((e) => e.type === 'job_dispatched' && (e as { data: { role: string } }).data.role === 'candidate' && ++seen === n + 1);
    writeLedgerDir(join(dir, 'ledger'), sample.entries.slice(0, cut), sample.files);
    commit(join(dir, 'ledger'));
    console.log(`    (simulated and wrote the ledger in ${s(performance.now() - t0)} s)`);
    const site = join(dir, 'site');
    const cache = join(dir, 'cache');
    row(n, 'cold', build(join(dir, 'ledger'), site, cache), cache);
    if (keep) {
      cpSync(cache, join(dir, 'cache-cold'), { recursive: true });
      cpSync(join(site, '.leaderboard-site'), join(dir, 'marker-cold'));
    }
    writeLedgerDir(join(dir, 'ledger'), sample.entries, sample.files);
    commit(join(dir, 'ledger'));
    const inc = build(join(dir, 'ledger'), site, cache);
    row(n + MORE, inc.mode === 'incremental' ? `incremental (+${MORE})` : `full: ${inc.fullBecause}`, inc, cache);
    // a scheduled rebuild when nothing was appended since
    const same = build(join(dir, 'ledger'), site, cache);
    row(n + MORE, same.mode === 'incremental' ? 'nothing new' : `full: ${same.fullBecause}`, same, cache);
  } finally {
    if (keep) console.log(`    kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
