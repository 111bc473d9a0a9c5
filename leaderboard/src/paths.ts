// Where each thing lives in the built site, relative to its root. Pages and the API link to each
// other only through these, so a path is named once.
import { createHash } from 'node:crypto';

export const PER_PAGE = 250;

export const paths = {
  index: 'index.html',
  /** the table's newest page, under a name that does not move as pages are added (the default view) */
  experimentsNewest: 'experiments/index.html',
  experimentsPage: (n: number) => `experiments/page-${n}.html`,
  experiment: (id: number) => `experiments/${id}.html`,
  /** an experiment's loss curve, compact (curve.ts), read by its page's chart: kept out of the page's HTML */
  curve: (id: number) => `experiments/curves/${id}.json`,
  /** every merged improvement, newest first */
  records: 'records.html',
  /** the experiments table's rows, all of them, compact: what the table's filter and sort search (site.js) */
  experimentsAll: 'experiments/all.json',
  contributors: 'contributors.html',
  ledger: 'ledger.html',
  apiIndex: 'api/v1/index.json',
  apiExperimentsPage: (n: number | '{n}') => `api/v1/experiments/page-${n}.json`,
  apiBest: 'api/v1/best.json',
  apiContributors: 'api/v1/contributors.json',
  apiProgress: (slug: string) => `api/v1/progress/${slug}.json`,
  asset: (name: string) => `assets/${name}`,
};

/**
 * A file-name-safe, unique slug per hardware class (class names come from runners: untrusted),
 * the same whatever the order of `classes`. A class named as a slug (what `runner doctor`
 * measures: `gpu-h100-80gb`) is its own slug; any other name gets its slugged form and 8 hex digits
 * of its sha256. Before, slugs went in the order given (by experiment count) and a second class of
 * one slug got `-2`: a runner registered as `GPU H100 80GB` with more jobs than the real class took
 * `progress/gpu-h100-80gb.json` (test/leaderboard/red-team-slugs.test.ts).
 */
export function classSlugs(classes: readonly string[]): Map<string, string> {
  const base = (cls: string) => cls.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'class';
  const named = (cls: string) => base(cls) === cls;
  const slugs = new Map<string, string>();
  const taken = new Set<string>();
  // the classes named as slugs first: each takes its own name, which no other name can then take
  for (const cls of [...classes.filter(named), ...classes.filter((c) => !named(c)).sort()]) {
    const first = named(cls) ? cls : `${base(cls)}-${createHash('sha256').update(cls).digest('hex').slice(0, 8)}`;
    let slug = first;
    for (let i = 2; taken.has(slug); i++) slug = `${first}-${i}`;
    taken.add(slug);
    slugs.set(cls, slug);
  }
  return slugs;
}

/** The link from one site path to another: `12.html` from `experiments/11.html` (a byte count that 100,000 pages multiply), else through the root. */
export function href(from: string, to: string): string {
  const dir = from.slice(0, from.lastIndexOf('/') + 1);
  return dir && to.startsWith(dir) ? to.slice(dir.length) : rootFrom(from) + to;
}

/** Pages from a page to the root: `experiments/12.html` needs `../` before `assets/...`. */
export function rootFrom(page: string): string {
  const depth = page.split('/').length - 1;
  return depth === 0 ? './' : '../'.repeat(depth);
}

/**
 * Table and API pages are anchored at the oldest experiment: page n holds experiments
 * (n-1)*perPage .. n*perPage-1 in ledger order, so a page only changes when one of its rows does,
 * and new experiments fill the newest page (the last). There is always a page, even if empty.
 */
export function pageCount(total: number, perPage = PER_PAGE): number {
  return Math.max(1, Math.ceil(total / perPage));
}
