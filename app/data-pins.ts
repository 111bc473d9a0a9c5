// The data an official run is scored on, as the App's config fixes it: the pinned FineWeb-Edu
// shards (`fineweb_shards`, sent with every dispatch as one JSON input), or, without pins, the
// public Brown split, which every score then names as such.
import type { ExperimentResult } from '../trainer/result.js';
import { finewebDatasetName, fromRaw, pinsJson } from '../trainer/data/pins.js';
import type { AutoresearchConfig } from './config.js';
import { shown } from './policy/shown.js';

type WithPins = { fineweb_shards?: AutoresearchConfig['fineweb_shards'] };

/** The result's `dataset` an official run under this config must report. */
export function expectedDataset(config: WithPins): string {
  return config.fineweb_shards ? finewebDatasetName(fromRaw(config.fineweb_shards)) : 'brown';
}

/** The dispatch input carrying the pins (absent without pins, so a workflow without the input still takes the dispatch). */
export function pinsInput(config: WithPins): { data_pins?: string } {
  return config.fineweb_shards ? { data_pins: pinsJson(fromRaw(config.fineweb_shards)) } : {};
}

/**
 * Why a result is not on the data this config dispatches, or null. A run on other data (Brown
 * while shards are pinned, other pins, a result from before the pins changed) is not comparable
 * with the class's baseline: it is run again with the current pins.
 */
export function datasetProblem(result: Pick<ExperimentResult, 'dataset'>, config: WithPins): string | null {
  const want = expectedDataset(config);
  if (result.dataset === want) return null;
  return want === 'brown'
    ? `the run was scored on ${shown(result.dataset)}, but no shards are pinned in the App's config, so official runs use brown`
    : `the run was scored on ${shown(result.dataset)}, not on the shards pinned in the App's config (${want})`;
}
