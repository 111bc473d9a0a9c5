// Imports a candidate file and checks it implements the interface. Runs only in a child.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
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

/** An esbuild diagnostic as tsx reports it in its TransformError's message: `<file>:<line>:<column>: ERROR: <text>`. */
const ESBUILD_ERROR = /^(.+):(\d+):(\d+): ERROR: (.*)$/;

/**
 * Why importing the candidate failed, as a person fixing it needs it: a syntax error (tsx compiles
 * the candidate with esbuild) as file:line:column, the message and the offending line, without
 * esbuild's stack; any other error with its message and only the stack frames in the candidate file.
 */
export function importFailure(file: string, e: unknown, source?: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const located = message.split('\n').map((l) => ESBUILD_ERROR.exec(l)).filter((m) => m !== null);
  if (located.length && /Transform failed/.test(message)) {
    let lines: string[] = [];
    try {
      lines = (source ?? readFileSync(file, 'utf8')).split('\n');
    } catch {
      // the file went away: the message alone
    }
    const shown = located.slice(0, 3).map(([, where, line, column, text]) => {
      const code = lines[Number(line) - 1];
      return `${basename(where)}:${line}:${column}: ${text}${code === undefined ? '' : `\n  ${line} | ${code.trimEnd()}`}`;
    });
    return `${file} does not compile (${located.length === 1 ? 'a syntax error' : `${located.length} syntax errors`}):\n${shown.join('\n')}`;
  }
  if (!(e instanceof Error)) return `importing ${file} failed: ${message}`;
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l) && l.includes(basename(file)));
  return `importing ${file} failed: ${e.name}: ${message}${frames.length ? `\n${frames.slice(0, 5).join('\n')}` : ''}`;
}

export async function importCandidate(file: string): Promise<CreateModel> {
  let mod: { createModel?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { createModel?: unknown };
  } catch (e) {
    throw new CandidateError('crash', importFailure(file, e));
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
