// npm run leaderboard -- build <ledger checkout> <out dir> [--cache <dir>]
// npm run leaderboard -- preview [<site dir>] [--experiments N] [--port P]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLedgerDir } from '../../ledger/index.js';
import { buildSite, SITE_MARKER } from './build.js';
import { sampleLedger } from './sample-ledger.js';
import { serveDir } from './static-server.js';

const USAGE = `usage: npm run leaderboard -- build <ledger checkout dir> <out dir> [--cache <dir>]
       npm run leaderboard -- preview [<site dir>] [--experiments <n>] [--port <p>]
  build    builds the Pages site and its JSON API (api/v1/) from a checkout of the ledger branch
           --cache <dir>  keep what the next build needs to be incremental there (outside the out dir);
                          with a cache from the build now in <out dir>, only what changed is verified and rendered
  preview  serves a built site on http://127.0.0.1 (its pages load data with fetch, which browsers
           refuse to pages opened from disk); without a site dir it first builds a sample site from a
           simulated ledger of --experiments experiments (default 300). --port: default any free one`;

class UsageError extends Error {}

function count(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${v}".`);
  return Number(v);
}

async function preview(siteDir: string | undefined, experiments: number, port: number): Promise<number> {
  let site = siteDir;
  let scratch: string | null = null;
  if (site) {
    if (!existsSync(join(site, 'index.html'))) throw new UsageError(`${site} holds no index.html: give the out dir of \`npm run leaderboard -- build\`, or no dir for a sample site.`);
  } else {
    scratch = mkdtempSync(join(tmpdir(), 'leaderboard-preview-'));
    const t0 = performance.now();
    const sample = sampleLedger({ experiments });
    writeLedgerDir(join(scratch, 'ledger'), sample.entries, sample.files);
    site = join(scratch, 'site');
    const r = await buildSite(join(scratch, 'ledger'), site);
    console.log(`built a sample site from a simulated ledger: ${r.experiments} experiments, ${r.entries} entries, in ${((performance.now() - t0) / 1000).toFixed(1)} s (${site})`);
  }
  const server = await serveDir(site, port).catch((e: Error) => {
    throw new UsageError(`could not listen on 127.0.0.1:${port} (${e.message}); pass another --port, or none for any free one.`);
  });
  console.log(`serving ${site}${existsSync(join(site, SITE_MARKER)) ? '' : ' (not a leaderboard build?)'} at ${server.url}  (open it in a browser; Ctrl-C stops)`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, cache: { type: 'string' }, experiments: { type: 'string' }, port: { type: 'string' } } });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, a, b, ...extra] = parsed.positionals;
  if (parsed.values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    if (command === 'preview' && b === undefined) {
      return await preview(a, count('experiments', parsed.values.experiments, 300, 1, 1_000_000), count('port', parsed.values.port, 0, 0, 65535));
    }
    if (command !== 'build' || !a || !b || extra.length) {
      throw new UsageError(command && command !== 'build' && command !== 'preview' ? `unknown command "${command}"` : command === 'preview' ? 'preview takes at most one site dir' : 'build needs a ledger checkout and an out dir');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  const r = await buildSite(a, b, { cacheDir: parsed.values.cache });
  console.log(`built ${b}: ${r.experiments} experiments from ${r.entries} ledger entries (head ${r.head.seq} ${r.head.hash}), ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB, in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.mode === 'incremental') console.log(`incremental: ${r.rendered} experiment pages rendered, ${r.kept} kept, ${r.removed} stale files removed`);
  else if (r.fullBecause) console.log(`full build: ${r.fullBecause}`);
  console.log(`see it: npm run leaderboard -- preview ${b}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`leaderboard: ${e.message}`);
    process.exit(1);
  },
);
