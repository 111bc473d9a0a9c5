// experiments/<id>.html: everything about one experiment, readable without GitHub and without
// JavaScript (the loss curve's chart has a sentence in its place, and its figures are in its file).
import { repoUrl } from '../api.js';
import type { ApiExperiment } from '../api-schema.js';
import { describeCurve } from '../curve.js';
import { MAX_REASON, type ClosedJob, type Experiment } from '../experiments.js';
import * as fmt from '../format.js';
import { html, safeUrl, type Trusted } from '../html.js';
import { href, paths } from '../paths.js';
import { layout } from './layout.js';

/** Where an experiment stands among the others: its neighbours in ledger order and the record it tried to beat. */
export interface Neighbours {
  prev: number | null;
  next: number | null;
  /** the latest merged experiment of its class before it: its curve is drawn beside this one */
  record: Pick<ApiExperiment, 'id' | 'pr' | 'val_bpb'> | null;
  /** its PR's jobs closed without a run (superseded, PR closed, overdue), oldest first: lines of the PR's history, not experiments */
  closed: Pick<ClosedJob, 'time' | 'sha' | 'reason'>[];
}

/** What the build found for the archived diff. */
export type DiffView = { kind: 'rendered'; markup: Trusted } | { kind: 'missing'; why: string };

function link(url: string | null, label: string): Trusted {
  const href = safeUrl(url);
  return href ? html`<a href="${href}">${label}</a>` : html`<span class="missing">${label}: not recorded</span>`;
}

/** result.json's strings on the page: a device name or a version is short; a failure message may say more */
const MAX_FIELD = 300;

function fields(e: Experiment): Trusted {
  const r = e.result;
  if (!r) return html`<p>No result file could be read for this run${e.reason ? html`: ${e.reason}` : ''}.</p>`;
  const rows: [string, string | number | null][] = [
    ['failure', r.failure ? `${r.failure.kind}: ${r.failure.message}` : null],
    ['unigram_bpb (reference)', r.unigram_bpb],
    ['bigram_bpb (reference)', r.bigram_bpb],
    ['eval bytes', r.eval_bytes],
    ['eval split', r.eval_split],
    ['dataset', r.dataset],
    ['steps', r.steps],
    ['tokens', r.tokens],
    ['budget', `${r.budget_seconds} s`],
    ['train time', `${r.train_seconds.toFixed(1)} s`],
    ['total time', `${r.total_seconds.toFixed(1)} s`],
    ['tokens/s', Math.round(r.tokens_per_second)],
    ['parameters', r.params],
    ['backend', r.backend],
    ['device', r.device],
    ['peak memory', `${r.peak_memory_mb.toFixed(0)} MB`],
    ['seed', r.seed],
    ['eval seed', r.eval_seed],
    ['candidate sha256', r.candidate_sha256],
    ['harness sha256', r.harness_sha256],
    ['harness version', r.harness_version],
    ['started', r.started_at],
    ['finished', r.finished_at],
    ['isolation', r.job?.isolation ?? null],
    ['runner', r.job?.runner_name ?? null],
  ];
  // end tags of rows and cells are optional in HTML: left out, 100,000 pages are 25 MB smaller
  return html`<table class="fields"><tbody>${rows.filter(([, v]) => v !== null).map(([k, v]) => html`<tr><th>${k}<td>${typeof v === 'string' ? fmt.clip(v, k === 'failure' ? MAX_REASON : MAX_FIELD) : v}`)}</tbody></table>`;
}

function verification(a: ApiExperiment, e: Experiment): Trusted {
  const v = e.verification;
  if (!v) {
    return html`<p>${a.status === 'pending' ? 'Not verified yet.' : 'No verification run (only claimed improvements are re-run by a second owner).'}</p>`;
  }
  return html`<p><span class="status ${v.agreed ? 'merged' : 'failed'}">${v.agreed ? 'agreed' : 'disagreed'}</span>
claim ${fmt.bpb(v.claim_bpb)}, re-run ${fmt.bpb(v.verify_bpb)} (tolerance ${v.tolerance}) on a runner of ${v.runner_owner ?? 'an unrecorded owner'}.
${link(v.run_url, 'verify run log')}</p>`;
}

function lossCurve(a: ApiExperiment, e: Experiment, n: Neighbours, page: string): Trusted {
  const curve = e.result?.loss_curve ?? [];
  if (!curve.length) return html`<p>No loss curve was recorded.</p>`;
  const record = n.record;
  const self = a.pr === null ? 'this run' : `#${a.pr}`;
  // the chart (site.js) draws the files named here; without JavaScript the sentence stands in its place
  return html`<figure class="loss" data-src="${href(page, paths.curve(a.id))}"${record ? html` data-compare="${href(page, paths.curve(record.id))}" data-compare-label="record #${record.pr}"` : ''} data-label="${self}">
<figcaption>Training loss (bits/byte) by step${record ? html`, dashed: <a href="${href(page, paths.experiment(record.id))}">#${record.pr}</a>, the record it tried to beat (${fmt.bpb(record.val_bpb)})` : ''}</figcaption>
<div class="chart" role="img" aria-label="Training loss by step${record ? ` beside record #${record.pr}` : ''}"></div>
<p class="curve-text">${describeCurve(curve)}</p>
</figure>`;
}

function prHistory(n: Neighbours): Trusted {
  if (!n.closed.length) return html``;
  return html`<h2>PR history</h2>
<p>Jobs of this PR that were closed before any run reported (they are not experiments):</p>
<ul class="story">${n.closed.map((c) => html`<li>${fmt.time(c.time)}: the job for commit <code>${c.sha.slice(0, 7)}</code> was closed: ${c.reason}</li>`)}</ul>`;
}

function neighbours(n: Neighbours, page: string): Trusted {
  const to = (id: number | null, rel: string, label: string) => (id === null ? html`<span>${label}</span>` : html`<a href="${href(page, paths.experiment(id))}" rel="${rel}">${label}</a>`);
  return html`<nav class="pager" aria-label="experiments">${to(n.prev, 'prev', '‹ previous experiment')}<a href="${href(page, paths.experimentsNewest)}">all experiments</a>${to(n.next, 'next', 'next experiment ›')}</nav>`;
}

export function experimentPage(a: ApiExperiment, e: Experiment, diff: DiffView, n: Neighbours): string {
  const page = paths.experiment(a.id);
  const curve = e.result?.loss_curve ?? [];
  const heading = a.pr === null ? `Run ${a.job_id}` : `PR #${a.pr}`;
  const repo = repoUrl(e.repo);
  const merge = a.merge_sha && repo ? html` · <a href="${repo}/commit/${a.merge_sha}">merge commit ${a.merge_sha.slice(0, 7)}</a>` : '';
  const body = html`${neighbours(n, page)}
<h1>${heading}${a.title ? html`: <span class="title">${a.title}</span>` : ''}</h1>
<p class="meta"><span class="status ${a.status}">${a.status}</span> ${a.reason ? html`<span class="reason">${a.reason}</span>` : ''}
by <strong>${a.author ?? 'unknown'}</strong>, run on <strong>${a.runner_owner ?? 'unknown'}</strong>'s ${a.hardware_class} runner, ${fmt.time(a.time)}.</p>
<p class="links">${link(a.pr_url, 'files changed on GitHub')} · ${link(a.run_url, 'full log (workflow run)')}${merge}</p>
<section class="score"><dl>
<dt>val_bpb</dt><dd>${fmt.bpb(a.val_bpb)}</dd>
<dt>baseline (${a.hardware_class})</dt><dd>${fmt.bpb(a.baseline_mean)}</dd>
<dt>Δ vs baseline</dt><dd>${fmt.delta(a.delta)}</dd>
</dl></section>
<h2>Verification</h2>
${verification(a, e)}
<h2>Loss curve</h2>
${lossCurve(a, e, n, page)}
<h2>Diff of <code>trainer/train.ts</code></h2>
${diff.kind === 'rendered' ? html`<div class="diff">${diff.markup}</div>` : html`<p class="missing">${diff.why}</p>`}
<h2>Result</h2>
${fields(e)}
<h2>Log excerpt</h2>
${e.log_excerpt ? html`<pre class="log">${e.log_excerpt}</pre>` : html`<p>No log excerpt was recorded.</p>`}
${prHistory(n)}`;
  return layout({ page, title: a.title ? `${heading}: ${a.title}` : heading, ledgerHead: { recordedIn: { seq: e.seq, hash: e.hash } }, charts: curve.length > 0 }, body);
}
