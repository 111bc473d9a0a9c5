// index.html: the best score per hardware class, its progress chart, and the latest experiments.
// Its size does not grow with the ledger: the charts load their points from the API files.
import type { ApiBest, ApiExperiment, ApiIndex } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths } from '../paths.js';
import { experimentsTable } from './experiments-table.js';
import { layout, type LedgerHead } from './layout.js';

export const RECENT = 30;

export function indexPage(index: ApiIndex, best: ApiBest, recent: readonly ApiExperiment[], head: LedgerHead, repoUrl: string | null): string {
  const root = './';
  const c = index.counts;
  const body = html`<h1>Progress</h1>
<p>${fmt.count(c.experiments)} experiments (${fmt.count(c.merged)} merged, ${fmt.count(c.discarded)} discarded, ${fmt.count(c.pending)} pending, ${fmt.count(c.failed + c.rejected)} failed or rejected) by ${fmt.count(c.contributors)} contributors on ${fmt.count(c.runners)} runners.
Scores are val_bpb (validation bits per byte; lower is better; a uniform model scores 8.0), compared only within a hardware class.</p>
<table class="best"><thead><tr><th>Hardware class</th><th>Best val_bpb</th><th>By</th><th>Baseline of main</th><th>Experiments</th><th>Merged</th></tr></thead><tbody>
${best.classes.map((k) => html`<tr><td>${k.hardware_class}</td><td class="num">${k.best ? html`<a href="${root}${k.best.url}">${fmt.bpb(k.best.val_bpb)}</a>` : '—'}</td><td>${k.best ? html`#${k.best.pr} ${k.best.author ?? ''}` : ''}</td><td class="num">${k.baseline ? html`${fmt.bpb(k.baseline.mean)} ± ${k.baseline.sigma.toFixed(4)}` : '—'}</td><td class="num">${fmt.count(k.experiments)}</td><td class="num">${fmt.count(k.merged)}</td></tr>
`)}</tbody></table>
${best.classes.map((k) => html`<figure class="progress" data-src="${root}${k.progress_url}" data-class="${k.hardware_class}">
<figcaption>${k.hardware_class}: the running best (staircase) falls with each merged improvement (labelled with its PR); discarded and pending experiments are faint dots, failed ones faint red dots along the top.</figcaption>
<div class="chart"></div>
<noscript><p>The chart needs JavaScript; its points are in <a href="${root}${k.progress_url}">${k.progress_url}</a>.</p></noscript>
</figure>
`)}
<h2>Latest experiments</h2>
${experimentsTable(recent, root, { filter: false })}
<p><a href="${root}${paths.experimentsNewest}">All ${fmt.count(c.experiments)} experiments</a> · agents: start at <a href="${root}${paths.apiIndex}">${paths.apiIndex}</a>${repoUrl ? html` (<a href="${repoUrl}/blob/HEAD/docs/api.md">how to read the API</a>)` : ''}</p>`;
  return layout({ page: paths.index, title: 'Progress', ledgerHead: head, charts: true }, body);
}
