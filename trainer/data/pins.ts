// Pins: the FineWeb-Edu parquet shards official runs train and evaluate on, each named by its
// sha256. One schema for the three places that read them: the App's config
// (`fineweb_shards:` in .github/autoresearch.yml), the dispatch input the Action receives, and
// the harness's `--pins` file. No parquet or network code here, so the App can import it.
import { createHash } from 'node:crypto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';

/** What fixes a bad pin, appended to every error about one. */
export const PIN_FIX = 'write the block with `npm run pin-data -- --config .github/autoresearch.yml` on a machine with network access (docs/harness.md, "Held-out text")';

/** Pins travel in one workflow_dispatch input; GitHub caps all inputs together at 65,535 characters. */
export const MAX_PINS_JSON_CHARS = 16_000;
export const MAX_SHARDS = 32;

export interface Shard {
  /** short stable name, recorded in the result's dataset field */
  id: string;
  url: string;
  /** lowercase hex; null until pinned with `npm run pin-data` */
  sha256: string | null;
  split: 'train' | 'val';
  /** bytes of text kept from this shard (the head, documents in file order) */
  maxTextBytes: number;
}
export type PinnedShard = Shard & { sha256: string };

export const PinnedShardSchema = z.object({
  id: z.string().regex(/^[\w./-]{1,100}$/, `must be 1 to 100 letters, digits, "_", ".", "/" or "-"`),
  url: z
    .string()
    .url('must be the http(s) URL of the parquet file')
    .refine((u) => /^https?:\/\//.test(u), 'must be the http(s) URL of the parquet file'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the shard file, 64 lowercase hex digits'),
  split: z.enum(['train', 'val'], 'must be train or val'),
  max_text_bytes: z.number('must be a number of bytes').int('must be a whole number of bytes').positive('must be positive').max(2 ** 32, 'must be at most 4 GiB'),
});

/** The `fineweb_shards` list: at least one train and one val shard, no shard in both. */
export const FinewebShards = z
  .array(PinnedShardSchema, 'must be a list of pinned shards')
  .min(2, 'needs at least one train and one val shard')
  .max(MAX_SHARDS, `may list at most ${MAX_SHARDS} shards`)
  .superRefine((shards, ctx) => {
    if (!shards.some((s) => s.split === 'train') || !shards.some((s) => s.split === 'val')) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one train and one val shard' });
    }
    shards.forEach((s, i) => {
      const j = shards.findIndex((t) => t.sha256 === s.sha256);
      // the same bytes on both sides would train on the held-out text
      if (j < i) ctx.addIssue({ code: 'custom', path: [i, 'sha256'], message: `is the same file as shard ${j} (${shards[j].id}); each shard may appear once, and never as both train and val` });
      if (shards.findIndex((t) => t.id === s.id) < i) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `repeats the id ${s.id}` });
    });
    if (JSON.stringify(shards).length > MAX_PINS_JSON_CHARS) {
      ctx.addIssue({ code: 'custom', message: `is over ${MAX_PINS_JSON_CHARS} characters as JSON, too long for the dispatch input; pin fewer or shorter-named shards` });
    }
  });
export type FinewebShardsRaw = z.infer<typeof FinewebShards>;

export const PinsFile = z.object({ fineweb_shards: FinewebShards }, 'must be a mapping with a fineweb_shards list');

export function fromRaw(raw: FinewebShardsRaw): PinnedShard[] {
  return raw.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256, split: s.split, maxTextBytes: s.max_text_bytes }));
}

export function toRaw(shards: PinnedShard[]): FinewebShardsRaw {
  return shards.map((s) => ({ id: s.id, url: s.url, sha256: s.sha256, split: s.split, max_text_bytes: s.maxTextBytes }));
}

/** One sentence naming the first thing wrong in a zod error, prefixed by where it was read. */
export function pinsError(source: string, error: z.ZodError, prefix: (string | number)[] = []): Error {
  const first = error.issues[0];
  const at = [...prefix, ...first.path.map(String)].join('.') || '(root)';
  return new Error(`${source}: ${at} ${first.message}; ${PIN_FIX}.`);
}

/** Shards from a pins file (YAML or JSON, `{ fineweb_shards: [...] }`); one error naming the first thing wrong. */
export function parsePins(text: string, source: string): PinnedShard[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new Error(`${source} is not YAML or JSON (${(e as Error).message.split('\n')[0]}); ${PIN_FIX}.`);
  }
  const got = PinsFile.safeParse(raw);
  if (!got.success) throw pinsError(source, got.error);
  return fromRaw(got.data.fineweb_shards);
}

/** The YAML block `npm run pin-data` prints: the `fineweb_shards:` key of .github/autoresearch.yml. */
export function pinsYaml(shards: PinnedShard[]): string {
  return toYaml({ fineweb_shards: toRaw(shards) });
}

/** The compact JSON the App sends as the `data_pins` dispatch input (and the Action hands the harness). */
export function pinsJson(shards: PinnedShard[]): string {
  return JSON.stringify({ fineweb_shards: toRaw(shards) });
}

/** sha256 over the pins in order (order sets how the shards' text is joined). */
export function pinsDigest(shards: PinnedShard[]): string {
  return createHash('sha256').update(pinsJson(shards)).digest('hex');
}

/**
 * The result's `dataset` for a run on these pins: the shard ids and 16 hex digits of the pins'
 * digest, so a result names the exact bytes it was scored on and the App can tell a run on
 * other pins (or on Brown) from one on its own.
 */
export function finewebDatasetName(shards: PinnedShard[]): string {
  return `fineweb-edu:${shards.map((s) => s.id).join(',')}#${pinsDigest(shards).slice(0, 16)}`;
}
