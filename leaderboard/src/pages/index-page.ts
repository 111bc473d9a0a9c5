// index.html: where each hardware class started and where it is now, the latest records, the best
// score per class beside main's baseline, its progress chart, and the latest experiments. Its size
// does not grow with the ledger: the charts load their points from the API files.
import type { ApiBest, ApiExperiment, ApiIndex } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths } from '../paths.js';
import type { ClassStory, RecordRow } from '../records.js';
import { experimentsTable } from './experiments-table.js';
import { layout, type LedgerHead } from './layout.js';
import { recordsTable, storyLines } from './records-page.js';

export const RECENT = 30;
export const RECENT_RECORDS = 10;

export function indexPage(index: ApiIndex, best: ApiBest, recent: readonly ApiExperiment[], head: LedgerHead, repoUrl: string | null, records: readonly RecordRow[], stories: readonly ClassStory[]): string {
  const root = './';
  const c = index.counts;
  const body = html`<h1>Progress</h1>
${storyLines(stories, root)}
<p>${fmt.count(c.experiments)} experiments (${fmt.count(c.merged)} merged, ${fmt.count(c.discarded)} discarded, ${fmt.count(c.pending)} pending, ${fmt.count(c.failed + c.rejected)} failed or rejected) by ${fmt.count(c.contributors)} contributors on ${fmt.count(c.runners)} runners.
Scores are val_bpb (validation bits per byte; lower is better; a uniform model scores 8.0), compared only within a hardware class.</p>
<h2>Records</h2>
${records.length ? html`${recordsTable(records.slice(-RECENT_RECORDS).reverse(), root)}
<p><a href="${root}${paths.records}">All ${fmt.count(records.length)} records</a></p>` : html`<p>No improvement has been merged yet.</p>`}
<h2>Best per hardware class</h2>
<div class="table-scroll"><table class="best"><thead><tr><th scope="col">Hardware class</th><th scope="col" class="num">Record</th><th scope="col">By</th><th scope="col" class="num">Main now</th><th scope="col" class="num">Experiments</th><th scope="col" class="num">Merged</th></tr></thead><tbody>
${best.classes.map((k) => html`<tr><td>${k.hardware_class}<td class="num">${k.best ? html`<a href="${root}${k.best.url}">${fmt.bpb(k.best.val_bpb)}</a>` : '—'}<td>${k.best ? html`#${k.best.pr} ${k.best.author ?? ''}` : ''}<td class="num">${k.baseline ? html`${fmt.bpb(k.baseline.mean)} ± ${k.baseline.sigma.toFixed(4)} <span class="muted">(${k.baseline.n} runs)</span>` : '—'}<td class="num">${fmt.count(k.experiments)}<td class="num">${fmt.count(k.merged)}
`)}</tbody></table></div>
<p class="note"><strong>Record</strong>: the lowest val_bpb a merged experiment scored on that class. <strong>Main now</strong>: the mean (± standard deviation) of the latest baseline runs of the default branch on that class, the number a new experiment must beat by the margin. Right after a merge main <em>is</em> the record's code, so the two differ only by run-to-run noise; they part when main has moved since (another class's merge, a harness change).</p>
${best.classes.map((k) => html`<figure class="progress" data-src="${root}${k.progress_url}" data-class="${k.hardware_class}" data-experiment="${root}${paths.experiment(0).replace('0', '{id}')}">
<figcaption>${k.hardware_class}: the running best (staircase) falls with each merged improvement (labelled with its PR); discarded and pending experiments are faint dots, failed ones faint red dots along the top. Point at a dot for its PR, title and score; click it to open the experiment.</figcaption>
<div class="chart" role="img" aria-label="Progress chart of ${k.hardware_class}: val_bpb of every experiment over time, and the running best. The records table above lists the same improvements."></div>
<noscript><p>The chart needs JavaScript; the records table above lists every improvement, and the chart's points are in <a href="${root}${k.progress_url}">${k.progress_url}</a>.</p></noscript>
</figure>
`)}
<h2>Latest experiments</h2>
${experimentsTable(recent, root, { filter: false })}
<p><a href="${root}${paths.experimentsNewest}">All ${fmt.count(c.experiments)} experiments</a> · agents: start at <a href="${root}${paths.apiIndex}">${paths.apiIndex}</a>${repoUrl ? html` (<a href="${repoUrl}/blob/HEAD/docs/api.md">how to read the API</a>)` : ''}</p>`;
  return layout({ page: paths.index, title: 'Progress', ledgerHead: head, charts: true }, body);
}
