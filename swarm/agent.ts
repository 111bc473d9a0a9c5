// The built-in agent of the one-machine swarm: proposes plausible changes to trainer/train.ts
// (hyperparameter constants and a few structural edits), after reading the leaderboard's JSON
// API as program.md tells agents to (docs/api.md), and never proposes what was already tried
// or is in flight. A proposal is identified by the lines it adds, so an idea tried by anyone
// (another agent, an external one) counts as tried.
//
// It does not pick blindly: it weighs each idea by what the API shows (program.md, "read what
// was tried first"). A constant moved one way that scored better than its baseline makes moving
// it further that way likely; one that scored worse makes it unlikely (and the other way a
// little likelier). And when the runs it reads are short (few optimizer steps: the swarm's
// budgets of seconds; before any run shows its steps, a budget of a minute or less), it leans
// towards cheaper steps, fewer bytes per step (BATCH, CONTEXT), and away from dearer ones (a
// bigger model or batch): with a few hundred updates, more updates beat bigger ones.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { Rng } from '../sim/rng.js';

export interface Proposal {
  title: string;
  /** the new train.ts */
  text: string;
  /** normalized lines the change adds: what identifies the idea */
  key: string;
  /** a constant's change: what the API's history is read against */
  change?: ConstantChange;
}

export interface ConstantChange {
  name: string;
  from: number;
  to: number;
}

/** What the API says was tried (experiments pages) */
export interface ApiExperiment {
  status: string;
  diff: string | null;
  title: string | null;
  val_bpb: number | null;
  /** val_bpb - baseline_mean; negative is better */
  delta?: number | null;
  steps?: number | null;
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

let memo: { current: string; all: readonly Proposal[] } | null = null;

/** Every proposal against `current` (not yet filtered). */
export function allProposals(current: string): Proposal[] {
  if (memo?.current !== current) memo = { current, all: computeProposals(current) };
  return [...memo.all];
}

function computeProposals(current: string): Proposal[] {
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
      out.push({ title: `${name} ${m[2]} -> ${fmt(x)}`, text, key: changeKey(current, text), change: { name, from: v, to: Number(fmt(x)) } });
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

/** The constants a unified diff of train.ts changes (`-const X = a;` then `+const X = b;`). */
export function constantChanges(diff: string): ConstantChange[] {
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  for (const l of diff.split('\n')) {
    const m = /^([-+])const ([A-Z][A-Z0-9_]*) = ([-+0-9.eE]+);/.exec(l);
    if (!m || l.startsWith('---') || l.startsWith('+++')) continue;
    (m[1] === '-' ? before : after).set(m[2], Number(m[3]));
  }
  const out: ConstantChange[] = [];
  for (const [name, from] of before) {
    const to = after.get(name);
    if (to !== undefined && Number.isFinite(from) && Number.isFinite(to) && to !== from) out.push({ name, from, to });
  }
  return out;
}

/** Constants whose smaller value makes a step cheaper without making the model smaller: more
 * optimizer steps in the same seconds, what a short budget needs most. */
const CHEAPER_STEP_DOWN = new Set(['BATCH', 'CONTEXT']);
/** Constants whose larger value makes each step dearer. */
const COSTLIER_STEP_UP = new Set(['BATCH', 'CONTEXT', 'N_EMBD', 'N_LAYER', 'MLP_MULT']);
/** Below this many steps in a run, the agent counts the budget as short. */
export const FEW_STEPS = 2000;
/** Before the API shows any run's steps: a budget of at most this many seconds counts as short. */
export const SHORT_BUDGET_SECONDS = 60;

/** What the agent knows besides the API: the budget in the repository's settings. */
export interface AgentContext {
  budgetSeconds?: number | null;
}
/** val_bpb a delta is measured in (the swarm's min_delta) */
const UNIT = 0.05;

/**
 * How promising a proposal looks from what the API shows, in "log-odds" (0: no opinion). Each
 * scored experiment that moved the same constant counts: the same way and better than its
 * baseline (negative delta) raises it, the same way and worse lowers it; the other way counts
 * half, reversed. A merge the same way counts once more. With short runs (median steps below
 * FEW_STEPS), cheaper steps start ahead.
 */
export function promise(p: Proposal, tried: ApiExperiment[], ctx: AgentContext = {}): { score: number; why: string | null } {
  if (!p.change) return { score: 0, why: null };
  const { name, from, to } = p.change;
  const up = to > from;
  let score = 0;
  let why: string | null = null;
  let best = 0;
  for (const e of tried) {
    if (!e.diff || typeof e.delta !== 'number' || !Number.isFinite(e.delta)) continue;
    for (const c of constantChanges(e.diff)) {
      if (c.name !== name) continue;
      const same = c.to > c.from === up;
      const gain = Math.max(-3, Math.min(3, -e.delta / UNIT));
      score += same ? gain : -gain / 2;
      if (same && e.status === 'merged') score += 1;
      if (same && -e.delta > best) {
        best = -e.delta;
        why = `${name} ${c.from} -> ${c.to} scored ${best.toFixed(3)} below its baseline`;
      }
    }
  }
  const steps = tried.map((e) => e.steps).filter((n): n is number => typeof n === 'number' && n > 0).sort((a, b) => a - b);
  const median = steps.length ? steps[Math.floor(steps.length / 2)] : null;
  const short = median !== null ? median < FEW_STEPS : typeof ctx.budgetSeconds === 'number' && ctx.budgetSeconds <= SHORT_BUDGET_SECONDS;
  if (short && CHEAPER_STEP_DOWN.has(name) && !up) {
    score += 3;
    why ??= median !== null ? `runs here take ${median} steps: fewer bytes per step, more steps` : `a ${ctx.budgetSeconds} s budget: fewer bytes per step, more steps`;
  }
  // and away from dearer steps (a wider, deeper or longer model, a bigger batch): fewer of them
  if (short && COSTLIER_STEP_UP.has(name) && up) score -= 1;
  return { score: Math.max(-6, Math.min(6, score)), why };
}

/**
 * The next change to try on `current`: one whose added lines no experiment in the API added and
 * that is not in flight (`inFlight`: keys of open PRs), drawn with weight e^promise (so an idea
 * the API argues for is tried first, and every fresh idea keeps a chance). Null when every idea
 * was tried.
 */
export function propose(current: string, tried: ApiExperiment[], inFlight: Set<string>, rng: Rng, ctx: AgentContext = {}): Proposal | null {
  const done = new Set(tried.map((e) => (e.diff ? addedLinesKey(e.diff) : '')).filter(Boolean));
  const fresh = allProposals(current).filter((p) => p.key && !done.has(p.key) && !inFlight.has(p.key));
  if (!fresh.length) return null;
  const scored = fresh.map((p) => ({ p, ...promise(p, tried, ctx) }));
  const weights = scored.map((s) => Math.exp(s.score));
  let r = rng.next() * weights.reduce((a, b) => a + b, 0);
  let i = 0;
  while (i < scored.length - 1 && r >= weights[i]) r -= weights[i++];
  const { p, why } = scored[i];
  return why ? { ...p, title: `${p.title} (${why})` } : p;
}

/**
 * A PR's change (`base` -> `head`) applied onto a newer `main`, as GitHub's "Update branch" does:
 * the new train.ts, or null when it no longer applies or main already holds it.
 */
export function updatedOnto(base: string, head: string, main: string): string | null {
  // a change of constants only (the built-in agents' usual one): done again on main's values, as
  // an agent redoes its edit (a line-based merge calls two adjacent constants a conflict)
  const changes = constantChanges(createTwoFilesPatch('a', 'b', base, head));
  const literal = (text: string, name: string) => constantRe(name).exec(text)?.[1] ?? null;
  if (changes.length && changeKey(base, head) === changes.map((c) => norm(constantRe(c.name).exec(head)![0])).sort().join('\n')) {
    let out = main;
    for (const c of changes) {
      // main moved that constant too: the idea needs redoing, not updating
      if (literal(main, c.name) === null || Number(literal(main, c.name)) !== c.from) return null;
      out = out.replace(constantRe(c.name), (line, v: string) => line.replace(`= ${v};`, `= ${literal(head, c.name)};`));
    }
    return out === main ? null : out;
  }
  // otherwise a three-way merge of the one file: git merge-file (exit status: the number of conflicts)
  const dir = mkdtempSync(join(tmpdir(), 'swarm-merge-'));
  try {
    const [h, b, m] = ['head', 'base', 'main'].map((n) => join(dir, n));
    writeFileSync(h, head);
    writeFileSync(b, base);
    writeFileSync(m, main);
    const r = spawnSync('git', ['merge-file', '-p', h, b, m], { encoding: 'utf8' });
    if (r.error) throw new Error(`git merge-file could not run (${r.error.message}); the swarm needs git to update a PR's branch`);
    return r.status !== 0 || r.stdout === main ? null : r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const constantRe = (name: string) => new RegExp(`^const ${name} = ([-+0-9.eE]+);.*$`, 'm');
