// The experiments table: plain HTML rows (readable without JavaScript); each cell carries its
// sort key in data-v. site.js sorts and filters across every experiment, not just the rows on the
// page: it reads experiments/all.json (allExperiments below) and renders the matching rows itself.
import type { ApiExperiment } from '../api-schema.js';
import * as fmt from '../format.js';
import { html, type Trusted } from '../html.js';
import { paths } from '../paths.js';

export const STATUSES = ['merged', 'discarded', 'pending', 'failed', 'rejected'] as const;

/** The columns, in order: the header, how site.js sorts it, and the all.json field it reads. */
export const COLUMNS = [
  ['PR', 'num', 'pr'],
  ['Title', 'text', 'title'],
  ['Author', 'text', 'author'],
  ['Runner owner', 'text', 'owner'],
  ['Class', 'text', 'cls'],
  ['val_bpb', 'num', 'bpb'],
  ['Δ baseline', 'num', 'delta'],
  ['Status', 'text', 'status'],
  ['Verification', 'text', 'verify'],
  ['Time', 'text', 't'],
] as const;

function verificationCell(e: ApiExperiment): Trusted {
  const v = e.verification;
  if (!v) return html`<td class="verify" data-v="">—`;
  return html`<td class="verify" data-v="${v.agreed ? 'agreed' : 'disagreed'}">${v.agreed ? 'agreed' : 'disagreed'} (${fmt.bpb(v.verify_bpb)})`;
}

// end tags of cells and rows are optional in HTML; left out, a 250-row page is 12 KB smaller
export function experimentRow(e: ApiExperiment, root: string): Trusted {
  return html`<tr data-status="${e.status}"><td data-v="${e.pr ?? -1}"><a href="${root}${e.url}">${e.pr === null ? 'main' : `#${e.pr}`}</a><td class="title">${e.title ?? ''}<td>${e.author ?? ''}<td>${e.runner_owner ?? ''}<td>${e.hardware_class}<td class="num" data-v="${e.val_bpb ?? ''}">${fmt.bpb(e.val_bpb)}<td class="num" data-v="${e.delta ?? ''}">${fmt.delta(e.delta)}<td><span class="status ${e.status}">${e.status}</span>${verificationCell(e)}<td class="time" data-v="${e.time}">${fmt.time(e.time)}
`;
}

export function experimentsTable(rows: readonly ApiExperiment[], root: string, opts: { filter: false } | { filter: true; classes: readonly string[] }): Trusted {
  const head = (label: string, type: string) => html`<th data-type="${type}" scope="col"><button type="button" class="sort">${label}</button></th>`;
  const form = opts.filter
    ? html`<form class="filter" role="search" onsubmit="return false" data-all="${root}${paths.experimentsAll}" data-root="${root}"><label>Filter <input type="search" name="q" placeholder="title, login, PR…"></label> <label>Class <select name="cls"><option value="">any</option>${opts.classes.map((c) => html`<option>${c}</option>`)}</select></label> <label>Status <select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option>${s}</option>`)}</select></label> <output name="shown" aria-live="polite"></output></form>`
    : '';
  return html`${form}
<div class="table-scroll"><table class="experiments sortable"><thead><tr>${COLUMNS.map(([label, type]) => head(label, type))}</tr></thead>
<tbody>
${rows.map((e) => experimentRow(e, root))}</tbody></table></div>`;
}

/**
 * Every experiment as one compact row, newest last, for the table's filter and sort (site.js):
 * [id, pr, title, author, runner owner, class index, val_bpb, delta, status index, verification
 * (null, or [1 agreed | 0 disagreed, re-run val_bpb]), unix seconds]. About 110 bytes a row.
 */
export function allExperiments(api: readonly ApiExperiment[], classes: readonly string[]): string {
  const cls = new Map(classes.map((c, i) => [c, i]));
  const status = new Map(STATUSES.map((s, i) => [s as string, i]));
  const rows = api.map((a) => [
    a.id,
    a.pr,
    a.title,
    a.author,
    a.runner_owner,
    cls.get(a.hardware_class) ?? -1,
    a.val_bpb,
    a.delta === null ? null : Number.isFinite(a.delta * 1e6) ? Math.round(a.delta * 1e6) / 1e6 : a.delta, // (1e308 * 1e6 would be written as null)
    status.get(a.status),
    a.verification ? [a.verification.agreed ? 1 : 0, a.verification.verify_bpb] : null,
    Math.round(Date.parse(a.time) / 1000),
  ]);
  return JSON.stringify({ columns: ['id', 'pr', 'title', 'author', 'runner_owner', 'class', 'val_bpb', 'delta', 'status', 'verification', 'time'], classes, statuses: STATUSES, url: paths.experiment(0).replace('0', '{id}'), rows });
}
