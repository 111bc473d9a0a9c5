// records.html, and the records table the home page shows the latest rows of: every merged
// improvement with its date, PR, title, author, the runner that scored it, the gain and val_bpb.
import * as fmt from '../format.js';
import { html, safeUrl, type Trusted } from '../html.js';
import { paths } from '../paths.js';
import type { ClassStory, RecordRow } from '../records.js';
import { layout, type LedgerHead } from './layout.js';
import { loginLink } from './people.js';

export function recordsTable(rows: readonly RecordRow[], root: string): Trusted {
  return html`<div class="table-scroll"><table class="records"><thead><tr><th scope="col">Merged</th><th scope="col">PR</th><th scope="col">Title</th><th scope="col">Author</th><th scope="col">Runner owner</th><th scope="col">Class</th><th scope="col" class="num">Δ vs main</th><th scope="col" class="num">val_bpb</th></tr></thead><tbody>
${rows.map((r) => {
  const a = r.experiment;
  const pr = safeUrl(a.pr_url);
  return html`<tr><td class="time">${fmt.time(r.time)}<td><a href="${root}${a.url}">#${a.pr}</a>${pr ? html` <a class="ext" href="${pr.replace(/\/files$/, '')}" aria-label="PR #${a.pr} on GitHub">↗</a>` : ''}<td class="title">${a.title ?? ''}<td>${loginLink(a.author)}<td>${loginLink(a.runner_owner)}<td>${r.hardware_class}<td class="num">${fmt.delta(r.delta)}<td class="num"><strong>${fmt.bpb(r.val_bpb)}</strong>
`;
})}</tbody></table></div>`;
}

/** "gpu-h100-80gb: from 2.4500 to 2.1234 in 12 records": one line per class. */
export function storyLines(stories: readonly ClassStory[], root: string): Trusted {
  return html`<ul class="story">${stories.map((s) => {
    if (!s.from && !s.to) return html`<li><strong>${s.hardware_class}</strong>: no baseline of main and no record yet.</li>`;
    if (!s.to) return html`<li><strong>${s.hardware_class}</strong>: main scores ${fmt.bpb(s.from!.val_bpb)}; no improvement merged yet.</li>`;
    const from = s.from?.val_bpb ?? s.to.baseline_mean;
    return html`<li><strong>${s.hardware_class}</strong>: from <strong>${fmt.bpb(from)}</strong> to <strong>${fmt.bpb(s.to.val_bpb)}</strong> val_bpb (${fmt.delta(s.to.val_bpb - from)}) in ${fmt.count(s.records)} merged improvement${s.records === 1 ? '' : 's'}; the latest, <a href="${root}${s.to.experiment.url}">#${s.to.experiment.pr}</a>, ${fmt.time(s.to.time)}.</li>`;
  })}</ul>`;
}

export function recordsPage(records: readonly RecordRow[], stories: readonly ClassStory[], head: LedgerHead): string {
  const root = './';
  const body = html`<h1>Records</h1>
<p>Every improvement merged into the default branch, newest first: the experiment beat the baseline of main on its hardware class by more than the margin, and a runner of another owner re-ran it and agreed. Δ is its val_bpb minus that baseline (lower is better).</p>
${storyLines(stories, root)}
${records.length ? recordsTable(records.slice().reverse(), root) : html`<p>No improvement has been merged yet.</p>`}`;
  return layout({ page: paths.records, title: 'Records', ledgerHead: head }, body);
}
