// `npm run pin-data`: the operator's step, on a machine with network access, that fixes which
// FineWeb-Edu shards official runs use. It downloads each shard, hashes it, reads it once as
// parquet, and prints (or writes into the App's config) the `fineweb_shards:` block. The App
// sends that block with every dispatch; runners refuse any shard whose sha256 differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, parseDocument, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { FINEWEB_EDU_SHARDS, pinShards, type Fetch } from './fineweb.js';
import { PinnedShardSchema, PinsFile, pinsError, pinsYaml, toRaw, type Shard } from './pins.js';

export const USAGE = `usage: npm run pin-data -- [--config <file>] [--shards <file>] [--cache-dir <dir>]
  Downloads each shard, computes its sha256, checks that it reads as parquet with a "text" column,
  and prints the fineweb_shards: block for .github/autoresearch.yml.
  --config <file>    write the block into this file (e.g. .github/autoresearch.yml), keeping the rest
  --shards <file>    pin these shards instead of the default FineWeb-Edu pair: YAML or JSON
                     {fineweb_shards: [{id, url, split: train|val, max_text_bytes, sha256?}]};
                     a sha256 given there is checked, so this also re-verifies existing pins
  --cache-dir <dir>  keep the downloaded shards here (default .cache/data): a local
                     \`npm run experiment -- --pins <file>\` then needs no second download`;

class UsageError extends Error {}

const ShardList = z.object({
  fineweb_shards: z.array(PinnedShardSchema.extend({ sha256: PinnedShardSchema.shape.sha256.optional() }), 'must be a list of shards').min(1, 'needs at least one shard'),
});

function readShardList(path: string): Shard[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--shards ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const got = ShardList.safeParse(raw);
  if (!got.success) throw new UsageError(pinsError(`--shards ${path}`, got.error).message);
  return got.data.fineweb_shards.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256 ?? null, split: s.split, maxTextBytes: s.max_text_bytes }));
}

/** Puts `fineweb_shards` into the YAML file at `path` (created if missing), comments and other keys kept. */
export function writePinsInto(path: string, block: unknown): void {
  const doc = parseDocument(existsSync(path) ? readFileSync(path, 'utf8') : '');
  if (doc.errors.length) throw new Error(`${path} is not valid YAML (${doc.errors[0].message.split('\n')[0]}); fix it, then pin again.`);
  if (doc.contents === null) {
    writeFileSync(path, toYaml({ fineweb_shards: block }));
    return;
  }
  doc.set('fineweb_shards', doc.createNode(block));
  writeFileSync(path, doc.toString({ flowCollectionPadding: false }));
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void; fetchImpl?: Fetch; cwd?: string } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, shards: { type: 'string' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const cwd = io.cwd ?? process.cwd();
    const shards = values.shards ? readShardList(resolve(cwd, values.shards)) : FINEWEB_EDU_SHARDS;
    const cacheDir = resolve(cwd, values['cache-dir'] ?? join('.cache', 'data'));
    const reports = await pinShards(shards, cacheDir, io.fetchImpl);
    for (const r of reports) io.err(`pinned ${r.shard.split} shard ${r.shard.id}: sha256 ${r.shard.sha256}, ${mib(r.fileBytes)}, ${mib(r.textBytes)} of text kept\n`);
    const pinned = reports.map((r) => r.shard);
    const checked = PinsFile.safeParse({ fineweb_shards: toRaw(pinned) });
    if (!checked.success) throw pinsError('the pinned shards', checked.error, ['fineweb_shards']);
    if (values.config) {
      const path = resolve(cwd, values.config);
      writePinsInto(path, checked.data.fineweb_shards);
      io.err(`wrote fineweb_shards into ${path}: commit it to the default branch; official runs then train and evaluate on these shards (cached in ${cacheDir}).\n`);
    } else io.out(pinsYaml(pinned));
    return 0;
  } catch (e) {
    const err = e as Error;
    const usage = err instanceof UsageError || String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS');
    io.err(usage ? `${err.message}\n${USAGE}\n` : `${err.message}\n`);
    return usage ? 2 : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
