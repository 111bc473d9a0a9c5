// experiments/page-N.html: one static page of the full table, newest first.
import type { ApiExperiment } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths, rootFrom } from '../paths.js';
import { experimentsTable } from './experiments-table.js';
import { layout, type LedgerHead } from './layout.js';

export function experimentsPage(n: number, pages: number, total: number, rows: readonly ApiExperiment[], head: LedgerHead): string {
  const page = paths.experimentsPage(n);
  const root = rootFrom(page);
  const link = (k: number, label: string) => (k >= 1 && k <= pages && k !== n ? html`<a href="${root}${paths.experimentsPage(k)}">${label}</a>` : html`<span>${label}</span>`);
  // first, previous, a window around this page, next, last: a few dozen links even at 100,000 experiments
  const window: number[] = [];
  for (let k = Math.max(1, n - 3); k <= Math.min(pages, n + 3); k++) window.push(k);
  const pager = html`<nav class="pager" aria-label="pages">${link(1, '« first')}${link(n - 1, '‹ newer')}${window.map((k) => (k === n ? html`<strong>${k}</strong>` : link(k, String(k))))}${link(n + 1, 'older ›')}${link(pages, 'last »')}</nav>`;
  const body = html`<h1>Experiments</h1>
<p>${fmt.count(total)} experiments, newest first; page ${n} of ${pages}. Sorting and filtering apply to this page; every experiment is also in <a href="${root}${paths.apiExperimentsPage(n)}">${paths.apiExperimentsPage(n)}</a>.</p>
${pager}
${experimentsTable(rows, root, { filter: true })}
${pager}`;
  return layout({ page, title: `Experiments, page ${n}`, ledgerHead: head }, body);
}
