// The one data interface the harness trains and evaluates on: bytes (vocab 256), two splits.
export interface Dataset {
  /** recorded in the result: "brown" or "fineweb-edu:<shard ids>" */
  name: string;
  train: Uint8Array;
  val: Uint8Array;
}

export const DATASETS = ['brown', 'fineweb'] as const;
export type DatasetName = (typeof DATASETS)[number];

export async function loadDataset(name: DatasetName, opts: { cacheDir: string; shards?: import('./pins.js').Shard[] }): Promise<Dataset> {
  if (name === 'brown') {
    const { loadBrownCached } = await import('./brown.js');
    return loadBrownCached(opts.cacheDir);
  }
  if (!opts.shards) {
    const { PIN_FIX } = await import('./pins.js');
    throw new Error(`--data fineweb needs --pins <file>, the shards and their sha256; ${PIN_FIX}.`);
  }
  const { loadFineweb } = await import('./fineweb.js');
  return loadFineweb(opts.cacheDir, opts.shards);
}
