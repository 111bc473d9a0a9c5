// `npm run simulate:sweep -- [options]`: the simulator over seeds, adversary shares and settings,
// as one markdown table (docs/trust.md, section 7). Each cell is one `npm run simulate -- --json`
// in its own process, `--jobs` at a time; the same arguments give the same table.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HELP = `npm run simulate:sweep -- [options] [-- simulate options for every run]

  --seeds 1,2,3          seeds (default 1,2,3)
  --adversaries 0,0.2    adversary shares (default 0,0.2,0.4)
  --variant "name: --set k=v --set k2=v2"
                         a setting to compare with the defaults (repeatable); "defaults" is always run
  --experiments N        PRs per run (default 1000)
  --jobs N               runs at a time (default 2)
  --out FILE             also write every run's JSON, one per line
`;

export interface Cell {
  variant: string;
  seed: number;
  adversaries: number;
  figures: Record<string, any> | null;
  error?: string;
}

/** The table's columns: the issue's figures first, then where the overhead goes. */
export function table(cells: Cell[]): string {
  const head = ['setting', 'adversarial', 'seed', 'false merges', 'seed-only merged', '3σ improvements merged (true / opened)', "adversaries' credit", 'banned', 'overhead', 'overhead by kind', 'API calls / PR', 'honest faulted (by replays) / banned'];
  const rows = cells.map((c) => {
    const f = c.figures;
    if (!f) return [c.variant, pct(c.adversaries), String(c.seed), `failed: ${c.error ?? '?'}`, '', '', '', '', '', '', '', ''];
    const byKind = Object.entries(f.overhead_by_kind ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return [
      c.variant,
      pct(c.adversaries),
      String(c.seed),
      String(f.false_merges),
      String(f.seed_only_merged),
      `${f.true_improvements_merged_pct}% / ${f.opened_improvements_merged_pct ?? '?'}%`,
      String(f.adversary_credit_share),
      `${f.adversaries_banned} of ${f.adversaries}`,
      String(f.verification_overhead),
      byKind,
      String(f.api_calls_per_experiment),
      `${f.honest_faulted ?? '?'} (${f.replay_faults_honest ?? 0}) / ${f.honest_banned ?? '?'}`,
    ];
  });
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/**
 * One line per setting and adversary share run at several seeds: the 3σ improvements merged,
 * pooled over the seeds with a 95% Wilson interval (one run decides about ten such PRs, so one
 * miss moves its figure by ten points), and the range of the other targets.
 */
export function pooled(cells: Cell[]): string[] {
  const out: string[] = [];
  const keys = [...new Set(cells.map((c) => `${c.variant}\u0000${c.adversaries}`))];
  for (const k of keys) {
    const [variant, a] = k.split('\u0000');
    const fs = cells.filter((c) => c.variant === variant && String(c.adversaries) === a && c.figures && typeof c.figures.true_improvements === 'number').map((c) => c.figures!);
    if (fs.length < 2) continue;
    const n = fs.reduce((x, f) => x + f.true_improvements, 0);
    const m = fs.reduce((x, f) => x + f.true_improvements_merged, 0);
    const [lo, hi] = wilson(m, n);
    const range = (key: string) => {
      const xs = fs.map((f) => Number(f[key]));
      return `${Math.min(...xs)}-${Math.max(...xs)}`;
    };
    out.push(
      `${variant} ${pct(Number(a))}, ${fs.length} seeds: 3σ improvements merged ${m} of ${n} (${n ? ((100 * m) / n).toFixed(1) : '-'}%, 95% interval ${(100 * lo).toFixed(1)}-${(100 * hi).toFixed(1)}%); ` +
        `false merges ${range('false_merges')}, seed-only ${range('seed_only_merged')}, adversaries' credit ${range('adversary_credit_share')}, overhead ${range('verification_overhead')}`,
    );
  }
  return out;
}

/** The 95% Wilson score interval of a proportion of `k` in `n` ([0, 1] when n is 0). */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function list(v: string | undefined, def: number[]): number[] {
  if (!v) return def;
  const xs = v.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x))) throw new Error(`not a list of numbers: ${v}`);
  return xs;
}

/** "name: --set a=b --set c=d" -> [name, args] */
export function parseVariant(v: string): [string, string[]] {
  const i = v.indexOf(':');
  if (i <= 0) throw new Error(`--variant "${v}" must read "name: --set key=value ..."`);
  return [v.slice(0, i).trim(), v.slice(i + 1).trim().split(/\s+/).filter(Boolean)];
}

function runOne(args: string[]): Promise<{ figures: Record<string, any> | null; error?: string }> {
  const cli = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve({ figures: JSON.parse(line) });
      } catch {
        resolve({ figures: null, error: `exit ${code}: ${err.trim().split('\n').pop() ?? ''}` });
      }
    });
  });
}

async function main(): Promise<void> {
  const dd = process.argv.indexOf('--');
  const own = dd >= 0 ? process.argv.slice(2, dd) : process.argv.slice(2);
  const common = dd >= 0 ? process.argv.slice(dd + 1) : [];
  const { values } = parseArgs({ args: own, options: { seeds: { type: 'string' }, adversaries: { type: 'string' }, variant: { type: 'string', multiple: true }, experiments: { type: 'string' }, jobs: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return void process.stdout.write(HELP);
  const seeds = list(values.seeds, [1, 2, 3]);
  const shares = list(values.adversaries, [0, 0.2, 0.4]);
  const variants: [string, string[]][] = [['defaults', []], ...(values.variant ?? []).map(parseVariant)];
  const jobs = Math.max(1, Number(values.jobs ?? 2));
  const cells: Cell[] = [];
  for (const [variant] of variants) for (const a of shares) for (const seed of seeds) cells.push({ variant, seed, adversaries: a, figures: null });
  let next = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (next < cells.length) {
      const c = cells[next++];
      const extra = variants.find(([v]) => v === c.variant)![1];
      const r = await runOne(['--seed', String(c.seed), '--adversaries', String(c.adversaries), '--experiments', values.experiments ?? '1000', ...common, ...extra]);
      c.figures = r.figures;
      c.error = r.error;
      process.stderr.write(`${c.variant} ${pct(c.adversaries)} seed ${c.seed}: ${r.figures ? `overhead ${r.figures.verification_overhead}, credit ${r.figures.adversary_credit_share}` : r.error} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  if (values.out) writeFileSync(values.out, cells.map((c) => JSON.stringify(c)).join('\n') + '\n');
  process.stdout.write(table(cells) + '\n');
  const lines = pooled(cells);
  if (lines.length) process.stdout.write('\n' + lines.join('\n') + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    process.stderr.write(`simulate:sweep: ${(e as Error).message}\n\n${HELP}`);
    process.exit(2);
  });
}
