// experiments/<id>.html: everything about one experiment, readable without GitHub and without
// JavaScript (except the loss curve's chart, whose figures are in the fields table too).
import type { ApiExperiment } from '../api-schema.js';
import type { Experiment } from '../experiments.js';
import * as fmt from '../format.js';
import { html, jsonScript, safeUrl, type Trusted } from '../html.js';
import { paths, rootFrom } from '../paths.js';
import { layout } from './layout.js';

/** What the build found for the archived diff. */
export type DiffView = { kind: 'rendered'; markup: Trusted } | { kind: 'missing'; why: string };

function link(url: string | null, label: string): Trusted {
  const href = safeUrl(url);
  return href ? html`<a href="${href}">${label}</a>` : html`<span class="missing">${label}: not recorded</span>`;
}

function fields(e: Experiment): Trusted {
  const r = e.result;
  if (!r) return html`<p>No result file could be read for this run${e.reason ? html`: ${e.reason}` : ''}.</p>`;
  const rows: [string, string | number | null][] = [
    ['status', r.status],
    ['failure', r.failure ? `${r.failure.kind}: ${r.failure.message}` : null],
    ['val_bpb', r.val_bpb],
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
    ['hardware class', r.hardware_class],
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
  return html`<table class="fields"><tbody>${rows.filter(([, v]) => v !== null).map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
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

export function experimentPage(a: ApiExperiment, e: Experiment, diff: DiffView): string {
  const page = paths.experiment(a.id);
  const root = rootFrom(page);
  const curve = e.result?.loss_curve ?? [];
  const heading = a.pr === null ? `Run ${a.job_id}` : `PR #${a.pr}`;
  const body = html`<h1>${heading}${a.title ? html`: <span class="title">${a.title}</span>` : ''}</h1>
<p class="meta"><span class="status ${a.status}">${a.status}</span> ${a.reason ? html`<span class="reason">${a.reason}</span>` : ''}
by <strong>${a.author ?? 'unknown'}</strong>, run on <strong>${a.runner_owner ?? 'unknown'}</strong>'s ${a.hardware_class} runner, ${fmt.time(a.time)}.</p>
<p class="links">${link(a.pr_url, 'files changed on GitHub')} · ${link(a.run_url, 'full log (workflow run)')} · <a href="${root}${paths.experimentsNewest}">all experiments</a></p>
<section class="score"><dl>
<dt>val_bpb</dt><dd>${fmt.bpb(a.val_bpb)}</dd>
<dt>baseline (${a.hardware_class})</dt><dd>${fmt.bpb(a.baseline_mean)}</dd>
<dt>Δ vs baseline</dt><dd>${fmt.delta(a.delta)}</dd>
</dl></section>
<h2>Verification</h2>
${verification(a, e)}
<h2>Loss curve</h2>
${curve.length ? html`<figure class="loss" data-points="${curve.length}"><div class="chart"></div><figcaption>training loss (nats) by step, ${curve.length} points</figcaption></figure>
${jsonScript('loss-curve', { step: curve.map((p) => p.step), loss: curve.map((p) => p.loss) })}` : html`<p>No loss curve was recorded.</p>`}
<h2>Diff of <code>trainer/train.ts</code></h2>
${diff.kind === 'rendered' ? html`<div class="diff">${diff.markup}</div>` : html`<p class="missing">${diff.why}</p>`}
<h2>Result</h2>
${fields(e)}
<h2>Log excerpt</h2>
${e.log_excerpt ? html`<pre class="log">${e.log_excerpt}</pre>` : html`<p>No log excerpt was recorded.</p>`}
<p>${link(a.run_url, 'Full log (workflow run)')}</p>`;
  return layout({ page, title: a.title ? `${heading}: ${a.title}` : heading, ledgerHead: { recordedIn: { seq: e.seq, hash: e.hash } }, charts: curve.length > 0 }, body);
}
