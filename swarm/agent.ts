// The built-in agent of the one-machine swarm: proposes plausible changes to trainer/train.ts
// (hyperparameter constants and a few structural edits), after reading the leaderboard's JSON
// API as program.md tells agents to (docs/api.md), and never proposes what was already tried
// or is in flight. A proposal is identified by the lines it adds, so an idea tried by anyone
// (another agent, an external one) counts as tried.
import type { Rng } from '../sim/rng.js';

export interface Proposal {
  title: string;
  /** the new train.ts */
  text: string;
  /** normalized lines the change adds: what identifies the idea */
  key: string;
}

/** What the API says was tried (experiments pages) */
export interface ApiExperiment {
  status: string;
  diff: string | null;
  title: string | null;
  val_bpb: number | null;
}

const norm = (l: string) => l.replace(/\/\/.*$/, '').replace(/\s+/g, ' ').trim();

/** The key of a change: the normalized lines added by a unified diff (or by old -> new text). */
export function addedLinesKey(diff: string): string {
  return diff
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => norm(l.slice(1)))
    .filter(Boolean)
    .sort()
    .join('\n');
}

export function changeKey(before: string, after: string): string {
  const old = new Set(before.split('\n').map(norm));
  return after
    .split('\n')
    .map(norm)
    .filter((l) => l && !old.has(l))
    .sort()
    .join('\n');
}

/** Constant -> values worth trying, relative to the current value (numbers only). */
const CONSTANTS: Record<string, (v: number) => number[]> = {
  LR: (v) => [v * 2, v * 0.5, v * 1.5, v * 3],
  N_EMBD: (v) => [v * 2, v * 1.5, v / 2].filter((x) => Number.isInteger(x)),
  N_LAYER: (v) => [v + 1, v - 1, v + 2].filter((x) => x >= 1),
  N_HEAD: (v) => [v * 2, v / 2].filter((x) => Number.isInteger(x) && x >= 1),
  CONTEXT: (v) => [v * 2, v / 2].filter((x) => Number.isInteger(x) && x >= 8),
  BATCH: (v) => [v * 2, v / 2].filter((x) => Number.isInteger(x) && x >= 4),
  MLP_MULT: (v) => [v - 1, v + 1].filter((x) => x >= 1),
  WARMUP: (v) => [0, v * 2 || 0.02, 0.1],
  WARMDOWN: (v) => [0.2, 0.6, v / 2],
  FINAL_LR_FRAC: () => [0, 0.1],
  WEIGHT_DECAY: (v) => [0, v * 10 || 0.01],
  BETA2: () => [0.95, 0.999],
  INIT_STD: (v) => [v * 2, v / 2],
};

/** Structural edits: a regex over the file and its replacement (skipped when the regex finds nothing). */
const EDITS: { title: string; find: RegExp; replace: string }[] = [
  { title: 'MLP: ELU instead of ReLU', find: /tf\.fused\.reluSquared\(tf\.matMul\(x, p\[`h\$\{l\}\.mlp\.w1`\]\)\)/, replace: 'tf.elu(tf.matMul(x, p[`h${l}.mlp.w1`]))' },
  { title: 'schedule: no warm-down (constant learning rate after warm-up)', find: /if \(progress <= 1 - WARMDOWN\) return LR;/, replace: 'if (progress <= 1) return LR;' },
  { title: 'init: residual projections not scaled down with depth', find: /const projStd = INIT_STD \/ Math\.sqrt\(2 \* (?:N_LAYER|c\.layers)\);/, replace: 'const projStd = INIT_STD;' },
];

function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const s = Number(x.toPrecision(3)).toString();
  return s.includes('e') ? s : x < 1e-2 ? x.toExponential(1).replace('.0e', 'e') : s;
}

/** Every proposal against `current` (not yet filtered). */
export function allProposals(current: string): Proposal[] {
  const out: Proposal[] = [];
  for (const [name, values] of Object.entries(CONSTANTS)) {
    const re = new RegExp(`^(const ${name} = )([-+0-9.eE]+)(;.*)$`, 'm');
    const m = re.exec(current);
    if (!m) continue;
    const v = Number(m[2]);
    if (!Number.isFinite(v)) continue;
    for (const x of values(v)) {
      if (!Number.isFinite(x) || Number(fmt(x)) === v) continue;
      const text = current.replace(re, `$1${fmt(x)}$3`);
      out.push({ title: `${name} ${m[2]} -> ${fmt(x)}`, text, key: changeKey(current, text) });
    }
  }
  for (const e of EDITS) {
    if (!e.find.test(current)) continue;
    const text = current.replace(e.find, e.replace);
    out.push({ title: e.title, text, key: changeKey(current, text) });
  }
  // a width that no longer divides into the heads would fail: leave those out; one proposal per idea
  const keys = new Set<string>();
  return out.filter((p) => divides(p.text) && !keys.has(p.key) && Boolean(keys.add(p.key)));
}

function divides(text: string): boolean {
  const c = (n: string) => Number(new RegExp(`^const ${n} = ([0-9]+);`, 'm').exec(text)?.[1] ?? NaN);
  const [e, h] = [c('N_EMBD'), c('N_HEAD')];
  return !Number.isFinite(e) || !Number.isFinite(h) || e % h === 0;
}

/**
 * The next change to try on `current`: one whose added lines no experiment in the API added and
 * that is not in flight (`inFlight`: keys of open PRs). Null when every idea was tried.
 */
export function propose(current: string, tried: ApiExperiment[], inFlight: Set<string>, rng: Rng): Proposal | null {
  const done = new Set(tried.map((e) => (e.diff ? addedLinesKey(e.diff) : '')).filter(Boolean));
  const fresh = allProposals(current).filter((p) => p.key && !done.has(p.key) && !inFlight.has(p.key));
  if (!fresh.length) return null;
  return fresh[Math.floor(rng.next() * fresh.length)];
}
