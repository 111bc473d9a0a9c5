// npm run leaderboard -- build <ledger checkout> <out dir>
import { parseArgs } from 'node:util';
import { buildSite } from './build.js';

const USAGE = `usage: npm run leaderboard -- build <ledger checkout dir> <out dir> [--cache <dir>]
  builds the Pages site and its JSON API (api/v1/) from a checkout of the ledger branch
  --cache <dir>  keep what the next build needs to be incremental there (outside the out dir);
                 with a cache from the build now in <out dir>, only what changed is verified and rendered`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, cache: { type: 'string' } } });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, ledgerDir, outDir, ...extra] = parsed.positionals;
  if (parsed.values.help || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command !== 'build' || !ledgerDir || !outDir || extra.length) {
    console.error(`${command && command !== 'build' ? `unknown command "${command}"` : 'build needs a ledger checkout and an out dir'}\n${USAGE}`);
    return 2;
  }
  const r = await buildSite(ledgerDir, outDir, { cacheDir: parsed.values.cache });
  console.log(`built ${outDir}: ${r.experiments} experiments from ${r.entries} ledger entries (head ${r.head.seq} ${r.head.hash}), ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB, in ${(r.ms / 1000).toFixed(1)} s`);
  if (r.mode === 'incremental') console.log(`incremental: ${r.rendered} experiment pages rendered, ${r.kept} kept, ${r.removed} stale files removed`);
  else if (r.fullBecause) console.log(`full build: ${r.fullBecause}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`leaderboard: ${e.message}`);
    process.exit(1);
  },
);
