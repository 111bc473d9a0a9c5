// experiments/page-N.html: one static page of the full table. Pages are anchored at the oldest
// experiment (page 1 holds the first ones), so a page stays the same file until one of its rows
// changes; its rows are shown newest first. experiments/index.html, the table's default view, shows
// the newest experiments (as many as a page holds, across the last two pages) and is rewritten on
// every build. With JavaScript, filter and sort search every experiment (experiments/all.json).
import type { ApiExperiment } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths, rootFrom } from '../paths.js';
import { experimentsTable } from './experiments-table.js';
import { layout, type LedgerHead } from './layout.js';

/**
 * What a page shows besides its rows; the build's per-page key covers exactly these, so keep
 * them in step: a page of n with rows `newestFirst` and links to pages 1..lastLinked.
 */
export interface TablePage {
  n: number;
  /** the newest page's number when this page was rendered, capped at n + 3 (the pager's window) */
  lastLinked: number;
  /** this page is the newest (rendered as experiments/index.html too) */
  newest: boolean;
}

/** The newest page links no further than n + 3, so an older page's pager changes only while it is among the 3 before the newest. */
export const PAGER_WINDOW = 3;

export function experimentsPage(t: TablePage, rows: readonly ApiExperiment[], perPage: number, asNewest: { head: LedgerHead; total: number } | null, classes: readonly string[]): string {
  const page = asNewest ? paths.experimentsNewest : paths.experimentsPage(t.n);
  const root = rootFrom(page);
  const { n, lastLinked } = t;
  const link = (k: number, label: string) => (k >= 1 && k <= lastLinked && (k !== n || asNewest) ? html`<a href="${root}${paths.experimentsPage(k)}">${label}</a>` : html`<span>${label}</span>`);
  // oldest, older, a window around this page, newer, newest: a few dozen links even at 100,000 experiments
  const window: number[] = [];
  for (let k = Math.max(1, n - PAGER_WINDOW); k <= Math.min(lastLinked, n + PAGER_WINDOW); k++) window.push(k);
  const newestLink = t.newest && !asNewest ? html`<span>newest »</span>` : html`<a href="${root}${paths.experimentsNewest}">newest »</a>`;
  const pager = html`<nav class="pager" aria-label="pages">${link(1, '« oldest')}${link(n - 1, '‹ older')}${window.map((k) => (k === n && !asNewest ? html`<strong>${k}</strong>` : link(k, String(k))))}${link(n + 1, 'newer ›')}${newestLink}</nav>`;
  const first = (n - 1) * perPage + 1;
  const span = rows.length ? `experiments ${first}–${first + rows.length - 1} in ledger order` : 'no experiments yet';
  const search = 'Filter and sort search all of them (sorting by val_bpb orders each hardware class on its own: scores compare only within a class).';
  const intro = asNewest
    ? html`<p>${fmt.count(asNewest.total)} experiments; the newest ${fmt.count(rows.length)} are below, newest first, and older ones on the numbered pages. ${search} For scripts: <a href="${root}${paths.apiIndex}">${paths.apiIndex}</a>.</p>`
    : html`<p>Page ${n}: ${span}, newest first${t.newest ? ' (the newest page: it grows as experiments arrive)' : ''}. ${search} This page's experiments are also in <a href="${root}${paths.apiExperimentsPage(n)}">${paths.apiExperimentsPage(n)}</a>.</p>`;
  const body = html`<h1>Experiments</h1>
${intro}
${pager}
${experimentsTable(rows, root, { filter: true, classes })}
${pager}`;
  return layout({ page, title: asNewest ? 'Experiments' : `Experiments, page ${n}`, ledgerHead: asNewest ? asNewest.head : null }, body);
}
