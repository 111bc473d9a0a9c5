// `runner status`: a volunteer's runners, the jobs they ran and the credits they earned, read from
// the leaderboard's public JSON API (the same numbers anyone can recompute from the ledger).
import { ApiContributors, ApiExperimentsPage, ApiIndex, type ApiExperiment } from '../leaderboard/src/api-schema.js';

export function defaultPagesUrl(repo: string): string {
  const [owner, name] = repo.split('/');
  return `https://${owner.toLowerCase()}.github.io/${name}/`;
}

async function getJson<T>(url: URL, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (e) {
    throw new Error(`could not reach the leaderboard at ${url.origin} (${(e as Error).message}); check --pages-url and your network`);
  }
  if (!res.ok) throw new Error(`the leaderboard answered HTTP ${res.status} for ${url.href}; check --pages-url (the swarm's GitHub Pages site)`);
  const parsed = schema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${url.href} is not leaderboard API v1 data (${i.path.join('.')}: ${i.message}); check --pages-url`);
  }
  return parsed.data;
}

export interface StatusReport {
  login: string;
  contributor: ApiContributors['contributors'][number] | null;
  runners: ApiContributors['runners'];
  /** newest first, from the pages read */
  jobs: ApiExperiment[];
}

export async function readStatus(opts: { pagesUrl: string; login: string; pages?: number }): Promise<StatusReport> {
  const base = opts.pagesUrl.endsWith('/') ? opts.pagesUrl : opts.pagesUrl + '/';
  const me = opts.login.toLowerCase();
  const people = await getJson(new URL('api/v1/contributors.json', base), ApiContributors);
  const jobs: ApiExperiment[] = [];
  // pages are anchored at the oldest experiment (page 1) and hold it oldest first: read back from the newest
  const index = await getJson(new URL('api/v1/index.json', base), ApiIndex);
  for (let n = index.newest_page; n >= 1 && n > index.newest_page - (opts.pages ?? 3); n--) {
    const page = await getJson(new URL(`api/v1/experiments/page-${n}.json`, base), ApiExperimentsPage);
    jobs.push(...page.experiments.filter((e) => e.runner_owner?.toLowerCase() === me).reverse());
  }
  return {
    login: opts.login,
    contributor: people.contributors.find((c) => c.login.toLowerCase() === me) ?? null,
    runners: people.runners.filter((r) => r.owner.toLowerCase() === me),
    jobs,
  };
}

const num = (x: number) => (Math.round(x * 10) / 10).toLocaleString('en-US');

export function formatStatus(s: StatusReport): string {
  const c = s.contributor;
  const lines = [`${s.login} on the swarm`];
  if (!c) {
    lines.push('  no jobs or credits yet: once your runner finishes a validated job it shows here (the leaderboard rebuilds after each ledger update).');
  } else {
    lines.push(`  credits: earned ${num(c.earned)}, pending ${num(c.pending)} (waiting for verification), spent ${num(c.spent)}, balance ${num(c.balance)}`);
    lines.push(`  GPU time given: ${num(c.gpu_seconds)} s; experiments proposed: ${c.experiments} (${c.merged} merged)`);
  }
  lines.push(`  runners: ${s.runners.length}`);
  for (const r of s.runners) lines.push(`    ${r.runner_name}  ${r.hardware_class}  ${r.active ? 'active' : 'retired'}  ${r.jobs} jobs  ${num(r.gpu_seconds)} s`);
  lines.push(`  recent jobs on your runners: ${s.jobs.length}`);
  for (const j of s.jobs.slice(0, 10)) {
    const score = j.val_bpb === null ? (j.failure_kind ?? j.status) : `${j.val_bpb.toFixed(4)} bpb`;
    lines.push(`    ${j.time.slice(0, 16).replace('T', ' ')}  ${j.pr ? `PR #${j.pr}` : 'baseline'}  ${j.hardware_class}  ${score}  ${j.status}`);
  }
  return lines.join('\n');
}
