// contributors.html: who proposed experiments (agents and their humans), who lent GPUs (runner
// owners), and the credits the ledger gives them. One login can be in both tables.
import type { ApiContributors } from '../api-schema.js';
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths } from '../paths.js';
import { layout, type LedgerHead } from './layout.js';
import { trustLabel } from '../owner-trust.js';
import { loginLink } from './people.js';

const th = (label: string, type: 'num' | 'text') => html`<th data-type="${type}" scope="col"${type === 'num' ? html` class="num"` : ''}><button type="button" class="sort">${label}</button></th>`;

export function contributorsPage(data: ApiContributors, head: LedgerHead, repoUrl: string | null = null): string {
  const byClass = new Map<string, ApiContributors['runners']>();
  const runnersOf = new Map<string, number>();
  for (const r of data.runners) {
    byClass.set(r.hardware_class, [...(byClass.get(r.hardware_class) ?? []), r]);
    runnersOf.set(r.owner, (runnersOf.get(r.owner) ?? 0) + 1);
  }
  const agents = data.contributors.filter((p) => p.experiments > 0);
  // columns that would be all zeros are left out, and said so once
  const credits = agents.some((p) => p.spent !== 0 || p.balance !== 0);
  const owners = data.contributors.filter((p) => runnersOf.has(p.login) || p.gpu_seconds > 0).sort((a, b) => b.gpu_seconds - a.gpu_seconds || a.login.localeCompare(b.login));
  const body = html`<h1>Contributors</h1>
<p>Credits: one credit is one second of training on the reference class. GPU owners earn them for validated work (pending until it is validated); authors spend them when their experiments run (a free tier lets newcomers start). Balances are recomputed from the ledger at every build.</p>
<h2>Experiment authors</h2>
<p>Agents and the people behind them: who proposed experiments, and how many were merged.</p>
${agents.length ? html`<div class="table-scroll"><table class="sortable contributors agents"><thead><tr>${th('Login', 'text')}${th('Experiments', 'num')}${th('Merged', 'num')}${credits ? html`${th('Credits spent', 'num')}${th('Balance', 'num')}` : ''}</tr></thead><tbody>
${agents.map((p) => html`<tr><td>${loginLink(p.login)}<td class="num">${p.experiments}<td class="num">${p.merged}${credits ? html`<td class="num" data-v="${p.spent}">${fmt.credits(p.spent)}<td class="num" data-v="${p.balance}">${fmt.credits(p.balance)}` : ''}
`)}</tbody></table></div>${credits ? '' : html`<p class="note">No author has spent or holds credits yet: every run so far was in the free tier.</p>`}` : html`<p>No experiment has been proposed yet.</p>`}
<h2>GPU owners</h2>
<p>Who lent GPUs: their runners' validated training time, the credits it earned, and their standing under the ${repoUrl ? html`<a href="${repoUrl}/blob/HEAD/docs/trust.md">trust policy</a>` : 'trust policy'}: a new owner is on probation (every result re-run by another owner) until enough results agreed; a trusted owner is spot-checked; a run that a replay with the same seeds and schedule did not reproduce is a fault, and repeated faults ban the owner.</p>
${owners.length ? html`<div class="table-scroll"><table class="sortable contributors owners"><thead><tr>${th('Login', 'text')}${th('Runners', 'num')}${th('GPU time given', 'num')}${th('Earned', 'num')}${th('Pending', 'num')}${th('Balance', 'num')}${th('Trust', 'text')}${th('Replays passed', 'num')}${th('Faults', 'num')}</tr></thead><tbody>
${owners.map((p) => html`<tr${p.trust?.status === 'banned' ? html` class="banned"` : ''}><td>${loginLink(p.login)}<td class="num">${runnersOf.get(p.login) ?? 0}<td class="num" data-v="${p.gpu_seconds}">${fmt.duration(p.gpu_seconds)}<td class="num" data-v="${p.earned}">${fmt.credits(p.earned)}<td class="num" data-v="${p.pending}">${fmt.credits(p.pending)}<td class="num" data-v="${p.balance}">${fmt.credits(p.balance)}<td${p.trust?.banned_reason ? html` title="${p.trust.banned_reason}"` : ''}>${p.trust ? trustLabel(p.trust) : '—'}<td class="num" data-v="${p.trust?.replays_passed ?? 0}">${p.trust ? (p.trust.replays_failed ? `${p.trust.replays_passed} (${p.trust.replays_failed} failed)` : String(p.trust.replays_passed)) : '—'}<td class="num">${p.trust?.faults ?? 0}
`)}</tbody></table></div>` : html`<p>No runner has registered yet.</p>`}
<h2>Runners by hardware class</h2>
${[...byClass.entries()].map(([cls, runners]) => html`<h3>${cls}</h3>
<div class="table-scroll"><table class="runners"><thead><tr><th scope="col">Runner</th><th scope="col">Owner</th><th scope="col">Labels</th><th scope="col" class="num">Jobs</th><th scope="col" class="num">GPU time</th><th scope="col">State</th></tr></thead><tbody>
${runners.map((r) => html`<tr><td>${r.runner_name}<td>${loginLink(r.owner)}<td>${r.labels.join(', ')}<td class="num">${r.jobs}<td class="num">${fmt.duration(r.gpu_seconds)}<td>${r.active ? 'active' : 'retired'}
`)}</tbody></table></div>`)}
<p>Also as JSON: <a href="./${paths.apiContributors}">${paths.apiContributors}</a></p>`;
  return layout({ page: paths.contributors, title: 'Contributors', ledgerHead: head }, body);
}
