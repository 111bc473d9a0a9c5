// `npm run bench:probes -- [--runs N] [--candidate file] [--budget s]`: honest runs through the
// real harness with different seeds and eval seeds, printing each run's largest
// log-probability difference between the scored and the probe pass, and how many runs the
// probe would have failed (its false-positive rate). Prints numbers; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BackendChoice } from './backend.js';
import { loadBrownCached } from './data/brown.js';
import { CAUSAL_ATOL } from './probes.js';
import { makeReporter } from './progress.js';
import { REPO_DIR, runExperiment } from './supervisor.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    candidate: { type: 'string', default: join(REPO_DIR, 'trainer/train.ts') },
    budget: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    'eval-bytes': { type: 'string', default: '32768' },
  },
});
const runs = Number(values.runs);
const dataset = await loadBrownCached(join(REPO_DIR, '.cache/data'));
let worst = 0;
let falsePositives = 0;
let failedOtherwise = 0;
for (let i = 0; i < runs; i++) {
  const out = mkdtempSync(join(tmpdir(), 'bench-probes-'));
  const r = await runExperiment({
    budgetSeconds: Number(values.budget),
    backend: values.backend as BackendChoice,
    seed: 1000 + i,
    evalSeed: 5000 + i,
    evalBytes: Number(values['eval-bytes']),
    data: 'brown',
    dataset,
    cacheDir: join(out, 'cache'),
    candidate: resolve(values.candidate),
    outDir: out,
    warmupSteps: 0,
    memoryMb: null,
    isolation: 'none',
    image: null,
    reporter: makeReporter({ tty: false, quiet: true }),
    causalTolerance: 1e9, // record the difference, never fail on it
  });
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 'ok' || !r.causality) {
    failedOtherwise++;
    process.stdout.write(`run ${i}: ${r.failure?.kind}: ${r.failure?.message}\n`);
    continue;
  }
  const d = r.causality.max_logprob_diff;
  worst = Math.max(worst, d);
  if (d > CAUSAL_ATOL) falsePositives++;
  process.stdout.write(`run ${i}: val_bpb ${r.val_bpb?.toFixed(4)}, ${r.causality.probe_rows} probe rows, max |dlogp| ${d.toExponential(2)} nats\n`);
}
process.stdout.write(
  `${runs} honest runs of ${values.candidate} on ${values.backend}: largest difference ${worst.toExponential(2)} nats, ` +
    `${falsePositives} over the tolerance ${CAUSAL_ATOL} (false positives), ${failedOtherwise} failed for another reason\n`,
);
