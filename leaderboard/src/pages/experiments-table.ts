// The experiments table: plain HTML rows (readable without JavaScript); each cell carries its
// sort key in data-v so site.js can sort and filter without re-reading the text.
import type { ApiExperiment } from '../api-schema.js';
import * as fmt from '../format.js';
import { html, type Trusted } from '../html.js';

const STATUSES = ['merged', 'discarded', 'pending', 'failed', 'rejected'] as const;

function verificationCell(e: ApiExperiment): Trusted {
  const v = e.verification;
  if (!v) return html`<td data-v="">—</td>`;
  return html`<td data-v="${v.agreed ? 'agreed' : 'disagreed'}">${v.agreed ? 'agreed' : 'disagreed'} (${fmt.bpb(v.verify_bpb)})</td>`;
}

export function experimentRow(e: ApiExperiment, root: string): Trusted {
  return html`<tr data-status="${e.status}"><td data-v="${e.pr ?? -1}"><a href="${root}${e.url}">${e.pr === null ? 'main' : `#${e.pr}`}</a></td><td class="title">${e.title ?? ''}</td><td>${e.author ?? ''}</td><td>${e.runner_owner ?? ''}</td><td>${e.hardware_class}</td><td class="num" data-v="${e.val_bpb ?? ''}">${fmt.bpb(e.val_bpb)}</td><td class="num" data-v="${e.delta ?? ''}">${fmt.delta(e.delta)}</td><td><span class="status ${e.status}">${e.status}</span></td>${verificationCell(e)}<td data-v="${e.time}">${fmt.time(e.time)}</td></tr>
`;
}

export function experimentsTable(rows: readonly ApiExperiment[], root: string, opts: { filter: boolean }): Trusted {
  const head = (label: string, type: 'num' | 'text') => html`<th data-type="${type}"><button type="button" class="sort">${label}</button></th>`;
  return html`${opts.filter ? html`<form class="filter" role="search" onsubmit="return false"><label>Filter <input type="search" name="q" placeholder="title, login, class…"></label> <label>Status <select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option>${s}</option>`)}</select></label> <output name="shown"></output></form>` : ''}
<div class="table-scroll"><table class="experiments sortable"><thead><tr>${head('PR', 'num')}${head('Title', 'text')}${head('Author', 'text')}${head('Runner owner', 'text')}${head('Class', 'text')}${head('val_bpb', 'num')}${head('Δ baseline', 'num')}${head('Status', 'text')}${head('Verification', 'text')}${head('Time', 'text')}</tr></thead>
<tbody>
${rows.map((e) => experimentRow(e, root))}</tbody></table></div>`;
}
