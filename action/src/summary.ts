// The job summary a person reads on the run page: the score next to its references, what
// ran where, the loss curve, and exactly which code was tested.
import type { ExperimentResult, LossPoint } from '../../trainer/result.js';

export interface SummaryInput {
  result: ExperimentResult;
  /** what the Action detected on this runner, e.g. "NVIDIA H100 80GB HBM3, 81559 MiB, driver 550.54" */
  hardware: string;
  hardwareClass: string;
  diff: string;
  ignored: string[];
  baseSha: string;
}

// GitHub keeps at most 1 MiB of summary per step; the full diff and log stay in the artifact
// and on the leaderboard.
const MAX_DIFF = 200_000;
const MAX_MESSAGE = 4_000;

const fmt = (n: number | null, digits = 4) => (n === null ? '—' : n.toFixed(digits));
const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function isolationWarning(): string {
  return 'ISOLATION: NONE. The candidate ran directly on this runner, in no container or sandbox: no network block, no read-only source, no view of the host hidden. Its score counts only if the swarm trusts this fleet; use Docker or bubblewrap (isolation: auto) for any code you do not trust.';
}

export function renderSummary(s: SummaryInput): string {
  const r = s.result;
  const job = r.job;
  const who = job ? `${job.role}${job.pr !== null ? ` #${job.pr}` : ''} @ \`${job.sha.slice(0, 12)}\`` : 'local run';
  const out: string[] = [];

  out.push(
    r.status === 'ok'
      ? `## val_bpb ${fmt(r.val_bpb)} · ${who}`
      : r.status === 'off_pace'
        ? `## ⏸️ Given back (off pace) · ${who}\n\nThe calibration workload ran at ${r.preflight?.gflops.toFixed(2)} GFLOP/s before training, below the ${r.preflight?.floor_gflops} GFLOP/s the App expects of \`${escapeHtml(r.hardware_class)}\`: the machine is busy or throttled. Nothing was trained; the App runs the job on another runner.`
        : `## ❌ Failed (${r.failure?.kind}) · ${who}\n\n${fence(clip(r.failure?.message ?? '', MAX_MESSAGE), 'text')}`,
  );
  if (job?.isolation === 'none') out.push(`> [!WARNING]\n> **${isolationWarning()}**`);
  if (s.ignored.length > 0) {
    out.push(
      `> [!NOTE]\n> Only \`trainer/train.ts\` of this commit was used. ${s.ignored.length} other changed file(s) were **ignored**: ` +
        s.ignored.map((p) => `\`${escapeHtml(p)}\``).join(', '),
    );
  }

  const rows: [string, string][] = [
    ['val_bpb (lower is better)', `**${fmt(r.val_bpb)}**`],
    ['unigram reference', fmt(r.unigram_bpb)],
    ['bigram reference', fmt(r.bigram_bpb)],
    ['uniform reference', '8.0000'],
    ['evaluated bytes', `${int(r.eval_bytes)} (${r.eval_split}, ${escapeHtml(r.dataset)}, eval seed ${r.eval_seed ?? '—'})`],
    ['steps', int(r.steps)],
    ['tokens (bytes) trained', int(r.tokens)],
    ['tokens/s', int(r.tokens_per_second)],
    ['training time', `${r.train_seconds.toFixed(1)} s of ${r.budget_seconds} s budget (total ${r.total_seconds.toFixed(1)} s)`],
    ['parameters', int(r.params)],
    ['peak memory', `${int(r.peak_memory_mb)} MB`],
    ['backend / device', `${escapeHtml(r.backend)} / ${escapeHtml(r.device)}`],
    ['hardware class', `\`${escapeHtml(r.hardware_class)}\``],
    ['runner hardware', `${escapeHtml(s.hardware)} (\`${escapeHtml(s.hardwareClass)}\`)`],
    ['isolation', job?.isolation === 'none' ? '**none** ⚠️' : (job?.isolation ?? '—')],
    ['seed', String(r.seed)],
    ['schedule', replayText(r.replay)],
    ['harness', `${escapeHtml(r.harness_version)}, sha256 \`${r.harness_sha256.slice(0, 16)}…\``],
    ['candidate sha256', `\`${r.candidate_sha256.slice(0, 16)}…\``],
    ['default branch', `\`${s.baseSha.slice(0, 12)}\``],
  ];
  out.push(['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n'));

  if (r.loss_curve.length > 0) out.push(`### Training loss\n\n${lossChart(r.loss_curve)}\n\n\`${sparkline(r.loss_curve)}\``);

  const d = s.diff.trim() === '' ? '(identical to the default branch)' : clip(s.diff, MAX_DIFF);
  out.push(`<details><summary>train.ts diff against the default branch</summary>\n\n${fence(d, 'diff')}\n\n</details>`);
  return out.join('\n\n') + '\n';
}

/** At most `max` points, evenly spread, always keeping the last. */
export function downsample(points: LossPoint[], max = 40): LossPoint[] {
  if (points.length <= max) return points;
  const out: LossPoint[] = [];
  for (let i = 0; i < max; i++) out.push(points[Math.round((i * (points.length - 1)) / (max - 1))]);
  return out;
}

export function lossChart(points: LossPoint[]): string {
  const pts = downsample(points.filter((p) => Number.isFinite(p.loss)));
  if (pts.length === 0) return '(no finite loss values)';
  const losses = pts.map((p) => Number(p.loss.toFixed(4)));
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const first = pts[0].step;
  const last = pts[pts.length - 1].step;
  return [
    '```mermaid',
    'xychart-beta',
    '  title "training loss (nats) by step"',
    `  x-axis "step" ${first} --> ${Math.max(last, first + 1)}`,
    `  y-axis "loss" ${Math.floor(lo * 10) / 10} --> ${Math.ceil(hi * 10) / 10 + (hi === lo ? 0.1 : 0)}`,
    `  line [${losses.join(', ')}]`,
    '```',
  ].join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';
export function sparkline(points: LossPoint[]): string {
  const v = downsample(points.filter((p) => Number.isFinite(p.loss)), 60).map((p) => p.loss);
  if (v.length === 0) return '';
  const lo = Math.min(...v);
  const span = Math.max(...v) - lo || 1;
  return v.map((x) => BARS[Math.round(((x - lo) / span) * (BARS.length - 1))]).join('');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters)`;
}

/** A code fence longer than any backtick run inside, so the diff cannot end it early. */
function fence(text: string, lang: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text.replace(/\n$/, '')}\n${f}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>|]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '|': '&#124;' })[c] as string);
}

/** How the run was paced and what proves its training; never the sealed digest itself. */
function replayText(rp: ExperimentResult['replay']): string {
  if (!rp) return '—';
  const steps = rp.schedule.split('.')[1];
  const how = rp.of ? `a replay of a schedule of ${steps} steps` : `on the clock (${steps} steps recorded)`;
  return `${how}; checkpoint digest ${rp.sealed ? "sealed to the App's key" : `\`${rp.digest?.slice(0, 16)}…\``}`;
}
