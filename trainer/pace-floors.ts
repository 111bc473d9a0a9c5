// The pre-flight pace check's input: the slowest calibration (GFLOP/s) the App still scores, by
// hardware class and calibration workload. The App computes it from its classes' history
// (app/policy/pace.ts), sends it with the dispatch (experiment.yml's `pace_floors`), and the
// harness compares its calibration before training with it: a machine below the floor gives the
// job back at once (status `off_pace`) instead of training for the whole budget to a result the
// App would refuse as off pace. One schema, for the App, the Action and the harness.
import { z } from 'zod';

/** Largest `pace_floors` input accepted (JSON characters): a few classes and workloads. */
export const MAX_PACE_FLOORS_CHARS = 8192;

export const PaceFloors = z.record(z.string().min(1).max(200), z.record(z.string().min(1).max(200), z.number().positive().finite()));
export type PaceFloors = z.infer<typeof PaceFloors>;

/** The floor for a class and workload, or null when the App sent none (no check). */
export function floorFor(floors: PaceFloors | null | undefined, cls: string, workload: string): number | null {
  return floors?.[cls]?.[workload] ?? null;
}

/** `text` (the workflow input or the CLI's --pace-floors) as floors; '' is none. One error naming what is wrong. */
export function parsePaceFloors(text: string, source: string): PaceFloors | null {
  if (text.trim() === '') return null;
  if (text.length > MAX_PACE_FLOORS_CHARS) throw new Error(`${source} is ${text.length} characters, over the ${MAX_PACE_FLOORS_CHARS} allowed; the App sends one floor per hardware class and calibration workload.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not JSON (${(e as Error).message}); the App sends {"<hardware class>": {"<calibration workload>": <GFLOP/s>}}.`);
  }
  const got = PaceFloors.safeParse(raw);
  if (!got.success) {
    const first = got.error.issues[0];
    throw new Error(`${source} at ${first.path.join('.') || '(root)'}: ${first.message}; the App sends {"<hardware class>": {"<calibration workload>": <GFLOP/s, positive>}}.`);
  }
  return got.data;
}

/** The JSON the dispatch sends ('' for none), so that the App, the ledger and the harness see the same text. */
export function paceFloorsInput(floors: PaceFloors | null | undefined): string {
  return floors && Object.keys(floors).length > 0 ? JSON.stringify(floors) : '';
}
