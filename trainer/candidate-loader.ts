// Imports a candidate file and checks it implements the interface. Runs only in a child.
import { pathToFileURL } from 'node:url';
import type { Candidate, CreateModel, DeviceInfo, TF } from './candidate-api.js';

export class CandidateError extends Error {
  constructor(
    readonly kind: 'invalid_candidate' | 'crash',
    message: string,
  ) {
    super(message);
  }
}

const MAX_DIM = 1 << 16;

export async function importCandidate(file: string): Promise<CreateModel> {
  let mod: { createModel?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { createModel?: unknown };
  } catch (e) {
    throw new CandidateError('crash', `importing ${file} failed: ${(e as Error)?.stack ?? String(e)}`);
  }
  if (typeof mod.createModel !== 'function') {
    throw new CandidateError('invalid_candidate', `${file} must export a function createModel(tf, seed, device); it exports ${Object.keys(mod).join(', ') || 'nothing'}.`);
  }
  return mod.createModel as CreateModel;
}

export function buildCandidate(createModel: CreateModel, tf: TF, seed: number, device: DeviceInfo): Candidate {
  let model: Candidate;
  try {
    model = createModel(tf, seed, Object.freeze({ ...device }));
  } catch (e) {
    throw new CandidateError('crash', `createModel threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  if (!model || typeof model !== 'object') throw new CandidateError('invalid_candidate', 'createModel must return a Candidate object.');
  for (const k of ['contextLength', 'batchSize'] as const) {
    const v = model[k];
    if (!Number.isInteger(v) || v < 1 || v > MAX_DIM) {
      throw new CandidateError('invalid_candidate', `Candidate.${k} must be an integer from 1 to ${MAX_DIM}, got ${String(v)}.`);
    }
  }
  for (const k of ['trainStep', 'logits', 'variables'] as const) {
    if (typeof model[k] !== 'function') throw new CandidateError('invalid_candidate', `Candidate.${k} must be a function.`);
  }
  return model;
}
