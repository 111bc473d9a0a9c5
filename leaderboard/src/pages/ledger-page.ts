// ledger.html: the head this site was built from, and how anyone checks it against the branch.
import * as fmt from '../format.js';
import { html } from '../html.js';
import { paths } from '../paths.js';
import { layout, type LedgerHead } from './layout.js';

export function ledgerPage(head: LedgerHead, headTime: string, countsByType: ReadonlyMap<string, number>, builtAt: string, repoUrl: string | null): string {
  const total = [...countsByType.values()].reduce((a, b) => a + b, 0);
  const body = html`<h1>Ledger</h1>
<p>Every experiment, result, verification, merge and credit on this site comes from the append-only, hash-chained ledger on the repository's <code>ledger</code> branch. Each entry carries the sha256 of the one before it, so changing any past entry changes every hash after it.</p>
<table class="fields"><tbody>
<tr><th>head seq</th><td>${head.seq}</td></tr>
<tr><th>head hash</th><td><code id="head-hash">${head.hash}</code></td></tr>
<tr><th>head time</th><td>${headTime}</td></tr>
<tr><th>entries</th><td>${fmt.count(total)}</td></tr>
<tr><th>site built</th><td>${builtAt}</td></tr>
</tbody></table>
<h2>Entries by type</h2>
<table class="fields"><tbody>${[...countsByType.entries()].map(([type, n]) => html`<tr><th>${type}</th><td class="num">${fmt.count(n)}</td></tr>`)}</tbody></table>
<h2>Verify it yourself</h2>
<p>The check recomputes every hash, every link and every credit balance from the entries alone; it needs no GitHub access and no trust in this site or in the App.</p>
<pre class="cmd">git clone ${repoUrl ?? 'https://github.com/<owner>/<repo>'}.git autoresearch-swarm
cd autoresearch-swarm &amp;&amp; npm ci
git fetch origin ledger &amp;&amp; git worktree add ../ledger-checkout origin/ledger
npm run ledger -- verify ../ledger-checkout --head ${head.seq}:${head.hash}</pre>
<p><code>--head</code> makes the check also confirm that the chain still holds entry ${head.seq} with hash <code>${head.hash}</code>, the head this site was built from: if it does not, the history shown here was rewritten after this build. The same head is in <a href="./${paths.apiIndex}">${paths.apiIndex}</a> for scripts.</p>`;
  return layout({ page: paths.ledger, title: 'Ledger', ledgerHead: head }, body);
}
