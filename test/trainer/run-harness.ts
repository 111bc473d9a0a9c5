// Runs the real supervisor with real child processes on a throw-away copy of the checkout
// (so that edits to the real trainer/ while tests run cannot disturb them, and no candidate
// can reach the real files). Tiny budgets and a small dev evaluation keep it fast.
import { expect } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBrown } from '../../trainer/data/brown.js';
import type { Dataset } from '../../trainer/data/dataset.js';
import { makeReporter } from '../../trainer/progress.js';
import { parseResult, type ExperimentResult } from '../../trainer/result.js';
import { runExperiment, type ExperimentOptions } from '../../trainer/supervisor.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
let brown: Dataset | null = null;

export function brownDataset(): Dataset {
  brown ??= loadBrown();
  return brown;
}

export function copyCheckout(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(repo, 'trainer'), join(dir, 'trainer'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json']) cpSync(join(repo, f), join(dir, f));
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

let shared: string | null = null;

/** One run; `outDir` is `<base>/out`, and `<base>/victim.txt` holds "precious". */
export async function runHarness(fixture: string, over: Partial<ExperimentOptions> = {}): Promise<{ result: ExperimentResult; outDir: string; base: string }> {
  shared ??= copyCheckout('harness-test-checkout-');
  const base = mkdtempSync(join(tmpdir(), 'harness-test-'));
  const outDir = join(base, 'out');
  mkdirSync(outDir);
  writeFileSync(join(base, 'victim.txt'), 'precious');
  const result = await runExperiment({
    budgetSeconds: 1.5,
    backend: 'wasm',
    seed: 7,
    evalSeed: null,
    evalBytes: 4096,
    data: 'brown',
    dataset: brownDataset(),
    cacheDir: join(base, 'cache'),
    candidate: isAbsolute(fixture) ? fixture : join(fixtures, fixture),
    outDir,
    warmupSteps: 0,
    memoryMb: null,
    isolation: 'none',
    image: null,
    graceSeconds: 2,
    repoDir: shared,
    reporter: makeReporter({ tty: false, quiet: true }),
    ...over,
  });
  return { result, outDir, base };
}

/** The result file on disk is the one the supervisor returned, and it parses. */
export function onDisk(outDir: string): ExperimentResult {
  return parseResult(readFileSync(join(outDir, 'result.json'), 'utf8'));
}

export function expectFailure(result: ExperimentResult, outDir: string, kind: string, message: RegExp): void {
  expect(result.status).toBe('failed');
  expect(result.val_bpb).toBeNull();
  expect(result.failure?.kind).toBe(kind);
  expect(result.failure?.message).toMatch(message);
  expect(onDisk(outDir)).toEqual(result);
}
