// What the App says on a PR: the sticky comment and the val_bpb check run's text.
import type { ExperimentResult } from '../trainer/result.js';
import type { Baseline } from './policy/baseline.js';

export const CHECK_NAME = 'val_bpb';

const f4 = (x: number) => x.toFixed(4);

export function invalidComment(problems: string[], notice: string | null): string {
  return [
    '### Experiment not accepted',
    ...problems.map((p) => `- ${p}`),
    '',
    'Push a fix to this branch and the App will check it again.',
    notice ? `\n> ${notice}` : '',
  ].join('\n');
}

export function stateComment(title: string, lines: string[], notice: string | null): string {
  return [`### ${title}`, ...lines, notice ? `\n> ${notice}` : ''].join('\n');
}

export interface ScoreSummary {
  result: ExperimentResult | null;
  baseline: Baseline | null;
  threshold: number | null;
  runnerName: string | null;
  runnerOwner: string | null;
  runUrl: string | null;
  verdict: string;
}

/** The check run's summary: the score, the class baseline, the delta, the hardware, who ran it, links. */
export function scoreSummary(s: ScoreSummary): string {
  const r = s.result;
  const rows: [string, string][] = [];
  if (r) {
    rows.push(['val_bpb', r.val_bpb === null ? `none (${r.failure?.kind}: ${r.failure?.message})` : f4(r.val_bpb)]);
    if (s.baseline) {
      rows.push([`baseline on ${s.baseline.hardware_class}`, `${f4(s.baseline.mean)} ± ${f4(s.baseline.sigma)} (n=${s.baseline.n}, ${s.baseline.sha.slice(0, 7)})`]);
      if (r.val_bpb !== null) rows.push(['delta', `${r.val_bpb - s.baseline.mean >= 0 ? '+' : ''}${f4(r.val_bpb - s.baseline.mean)}`]);
    } else rows.push(['baseline', `none yet on ${r.hardware_class}`]);
    if (s.threshold !== null) rows.push(['to beat', f4(s.threshold)]);
    rows.push(['unigram / bigram', `${f4(r.unigram_bpb)} / ${f4(r.bigram_bpb)}`]);
    rows.push(['hardware', `${r.hardware_class} (${r.device}, ${r.backend})`]);
    rows.push(['steps / tokens/s', `${r.steps} / ${Math.round(r.tokens_per_second)}`]);
  }
  rows.push(['runner', `${s.runnerName ?? 'unknown'} (owner ${s.runnerOwner ?? 'unknown'})`]);
  if (s.runUrl) rows.push(['run and log', `[workflow run](${s.runUrl})`]);
  return [s.verdict, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
