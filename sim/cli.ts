// `npm run simulate -- [options]`: the swarm simulator (sim/swarm.ts). Prints a summary, or one
// JSON line with --json. The same --seed replays the same run.
import { parseArgs } from 'node:util';
import { ADVERSARIES, CLASSES, OPT_IN, type Behaviour } from './model.js';
import { DEFAULTS, Swarm, type SimOptions } from './swarm.js';

const HELP = `npm run simulate -- [options]

  --seed N               the run's seed (default 1); the same seed replays the same run
  --experiments N        PRs to open (default ${DEFAULTS.experiments})
  --adversaries X        share of runner owners that are adversarial, 0..1 (default ${DEFAULTS.adversaries})
  --mix k=w,...          relative weights of ${ADVERSARIES.join(', ')} (default 1 each, 0 for the opt-in ${Object.keys(OPT_IN).join(' and ')}; 0 leaves one out)
  --owners N             runner owners, spread over the hardware classes (default ${DEFAULTS.owners})
  --authors N            honest PR authors (default ${DEFAULTS.authors})
  --improvements X       share of PRs with a real improvement (default ${DEFAULTS.improvementShare})
  --improvement-sigmas X its size in run-sigmas of each class (default ${DEFAULTS.improvementSigmas})
  --seed-only X          share of PRs that change only the training seed (default ${DEFAULTS.seedOnlyShare})
  --set key=value        an App setting in .github/autoresearch.yml (dotted keys: margin.k=3,
                         verification.quorum=2, verification.tolerance=0.02, baseline_runs=5, ...;
                         a list as [a,b]: trust.deterministic_backends=[wasm,cpu,tensorflow])
  --config-extra YAML    YAML appended to .github/autoresearch.yml (settings of newer App versions)
  --faults               inject 5xx, timeouts, secondary rate limits, redeliveries, reordering,
                         App restarts and a second App process; check invariants each day
  --fault-rate X         share of requests that fail in a fault run (default ${DEFAULTS.faultRate})
  --fault-seed N         the fault run's own seed: the same swarm under another pattern of faults
                         (default: from --seed)
  --check-every N        check 1 in N requests and answers against GitHub's REST description
                         (default ${DEFAULTS.checkEvery}; 1: all; 0: none)
  --max-days N           stop after N virtual days (default ${DEFAULTS.maxDays})
  --sigma-replay X       val_bpb spread between honest replays of one run on a GPU class (default
                         ${CLASSES.filter((c) => !c.deterministic).map((c) => `${c.name} ${c.sigmaReplay}`).join(', ')}; 0: deterministic GPU ops)
  --mid-run-load X       as a share of a class's chance of a busy machine: runs quiet at the start
                         and busy from the middle on (default 0: a busy machine is busy all run, and
                         the harness's pre-flight check gives its job back at the start)
  --json                 print one line of JSON
`;

function fail(msg: string): never {
  process.stderr.write(`simulate: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function num(name: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) fail(`--${name} ${v} is not a number from ${lo} to ${hi}`);
  return x;
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = (o[p] = { ...((o[p] as Record<string, unknown>) ?? {}) }) as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    experiments: { type: 'string' },
    adversaries: { type: 'string' },
    mix: { type: 'string' },
    owners: { type: 'string' },
    authors: { type: 'string' },
    improvements: { type: 'string' },
    'improvement-sigmas': { type: 'string' },
    'seed-only': { type: 'string' },
    'arrival-seconds': { type: 'string' },
    set: { type: 'string', multiple: true },
    'config-extra': { type: 'string' },
    faults: { type: 'boolean' },
    'fault-rate': { type: 'string' },
    'fault-seed': { type: 'string' },
    'check-every': { type: 'string' },
    'max-days': { type: 'string' },
    'sigma-replay': { type: 'string' },
    'mid-run-load': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const mix: Partial<Record<Behaviour, number>> = {};
for (const part of (values.mix ?? '').split(',').filter(Boolean)) {
  const [k, w] = part.split('=');
  if (!(ADVERSARIES as string[]).includes(k)) fail(`--mix names ${k}, not one of ${ADVERSARIES.join(', ')}`);
  mix[k as Behaviour] = num(`mix ${k}`, w, 0, 1000) ?? 1;
}
const config: Record<string, unknown> = structuredClone(DEFAULTS.config);
for (const kv of values.set ?? []) {
  const m = /^([a-z_.]+)=(.*)$/.exec(kv);
  if (!m) fail(`--set ${kv} is not key=value`);
  const raw = m[2];
  const scalar = (x: string) => (/^-?\d+(\.\d+)?$/.test(x) ? Number(x) : x === 'true' ? true : x === 'false' ? false : x);
  // a list: [a,b,c] (e.g. trust.deterministic_backends=[wasm,cpu,tensorflow])
  const list = /^\[(.*)\]$/.exec(raw);
  setPath(config, m[1], list ? list[1].split(',').map((x) => x.trim()).filter(Boolean).map(scalar) : scalar(raw));
}
const opts: Partial<SimOptions> = {
  seed: num('seed', values.seed, 0, 2 ** 32 - 1),
  experiments: num('experiments', values.experiments, 1, 1e6),
  adversaries: num('adversaries', values.adversaries, 0, 1),
  owners: num('owners', values.owners, 2, 10_000),
  authors: num('authors', values.authors, 1, 100_000),
  improvementShare: num('improvements', values.improvements, 0, 1),
  improvementSigmas: num('improvement-sigmas', values['improvement-sigmas'], 0, 100),
  seedOnlyShare: num('seed-only', values['seed-only'], 0, 1),
  arrivalSeconds: num('arrival-seconds', values['arrival-seconds'], 1, 1e6),
  faultRate: num('fault-rate', values['fault-rate'], 0, 1),
  faultSeed: num('fault-seed', values['fault-seed'], 0, 2 ** 32 - 1),
  checkEvery: num('check-every', values['check-every'], 0, 1e9),
  maxDays: num('max-days', values['max-days'], 1, 3650),
  sigmaReplay: num('sigma-replay', values['sigma-replay'], 0, 1),
  midRunLoad: num('mid-run-load', values['mid-run-load'], 0, 10),
  faults: values.faults ?? false,
  configExtra: values['config-extra'] ?? '',
  mix,
  config,
};
for (const k of Object.keys(opts) as (keyof SimOptions)[]) if (opts[k] === undefined) delete opts[k];

const figures = await new Swarm(opts).run();
if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
else for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(30)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
if (figures.lowest_true_bpb < 0.1) process.stderr.write(`warning: the default branch's true val_bpb fell to ${figures.lowest_true_bpb}: the model's gains add up linearly and are out of range; run fewer improvements (--improvements) or fewer PRs\n`);
