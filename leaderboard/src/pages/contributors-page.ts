// contributors.html: who proposed experiments, who lent GPUs, and the credits the ledger gives them.
import type { ApiContributors } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths } from '../paths.js';
import { layout, type LedgerHead } from './layout.js';

export function contributorsPage(data: ApiContributors, head: LedgerHead): string {
  const byClass = new Map<string, ApiContributors['runners']>();
  for (const r of data.runners) byClass.set(r.hardware_class, [...(byClass.get(r.hardware_class) ?? []), r]);
  const body = html`<h1>Contributors</h1>
<p>Credits: one credit is one second of training on the reference class. Earned credits stay pending until the work is validated; balances are recomputed from the ledger at every build.</p>
<table class="sortable contributors"><thead><tr><th data-type="text"><button type="button" class="sort">Login</button></th><th data-type="num"><button type="button" class="sort">Experiments</button></th><th data-type="num"><button type="button" class="sort">Merged</button></th><th data-type="num"><button type="button" class="sort">GPU time given</button></th><th data-type="num"><button type="button" class="sort">Earned</button></th><th data-type="num"><button type="button" class="sort">Pending</button></th><th data-type="num"><button type="button" class="sort">Spent</button></th><th data-type="num"><button type="button" class="sort">Balance</button></th></tr></thead><tbody>
${data.contributors.map((p) => html`<tr><td>${p.login}</td><td class="num">${p.experiments}</td><td class="num">${p.merged}</td><td class="num" data-v="${p.gpu_seconds}">${fmt.duration(p.gpu_seconds)}</td><td class="num" data-v="${p.earned}">${fmt.credits(p.earned)}</td><td class="num" data-v="${p.pending}">${fmt.credits(p.pending)}</td><td class="num" data-v="${p.spent}">${fmt.credits(p.spent)}</td><td class="num" data-v="${p.balance}">${fmt.credits(p.balance)}</td></tr>
`)}</tbody></table>
<h2>Runners by hardware class</h2>
${[...byClass.entries()].map(([cls, runners]) => html`<h3>${cls}</h3>
<table class="runners"><thead><tr><th>Runner</th><th>Owner</th><th>Labels</th><th>Jobs</th><th>GPU time</th><th>State</th></tr></thead><tbody>
${runners.map((r) => html`<tr><td>${r.runner_name}</td><td>${r.owner}</td><td>${r.labels.join(', ')}</td><td class="num">${r.jobs}</td><td class="num">${fmt.duration(r.gpu_seconds)}</td><td>${r.active ? 'active' : 'retired'}</td></tr>
`)}</tbody></table>`)}
${data.runners.length === 0 ? html`<p>No runner has registered yet.</p>` : ''}
<p>Also as JSON: <a href="./${paths.apiContributors}">${paths.apiContributors}</a></p>`;
  return layout({ page: paths.contributors, title: 'Contributors', ledgerHead: head }, body);
}
