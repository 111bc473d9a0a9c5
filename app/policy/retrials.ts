// A ban re-tries the discards it taints (docs/trust.md 2b, "A ban re-tries its discards"). Pure:
// the ledger in, the PR commits to try again out.
//
// A trusted owner's discards are only spot-checked, so an owner who turns saboteur (or a lazy
// owner whose made-up scores passed its probation on a class judged by score) discards real
// improvements until a check catches it. The ban reverses its unproven credits; before this, the
// discards it caused stood for good. In the simulator (seed 3, 1,000 PRs) a lazy GPU owner's
// made-up first run discarded a 3-sigma improvement (PR 289) that nothing ever ran again.
import type { EntryDataOf, LedgerEntry } from '../../ledger/index.js';
import { sideReplayEntry } from '../heads.js';
import type { LedgerView } from '../ledger-view.js';

export interface Retrial {
  pr: number;
  sha: string;
  /** the PR's author and title, as its runs recorded them */
  author: string;
  title: string | null;
  /** the commit's last job (its check run and sticky comment: app/jobs.ts jobRefs) */
  job_id: string;
  /** the banned owners whose unproven runs the discard rested on */
  owners: string[];
}

interface Commit {
  author: string | null;
  title: string | null;
  job_id: string | null;
  /** banned owners with a counted, unproven run of the commit since it was last decided */
  tainted: Set<string>;
  /** decided as a discard, and not run or queued since */
  discarded: boolean;
}

/**
 * The PR commits whose last outcome is a discard that counted a run of an owner banned since,
 * which no bit-exact replay proved (TrustBook.proven: the runs a ban leaves standing; a score
 * another owner merely agreed with shows only that it was plausible). A commit re-queued, run,
 * merged or dequeued after its discard is no longer due: each discard is re-tried at most once.
 * Never a PR of a banned author.
 */
export function retrialsDue(view: LedgerView): Retrial[] {
  const trust = view.state.trust;
  if (![...trust.owners.values()].some((o) => o.banned)) return [];
  const commits = new Map<string, Commit>();
  const at = (pr: number, sha: string) => {
    const k = `${pr}@${sha}`;
    let c = commits.get(k);
    if (!c) commits.set(k, (c = { author: null, title: null, job_id: null, tainted: new Set(), discarded: false }));
    return c;
  };
  /** a new attempt at a decided commit starts with no tainted runs */
  const restart = (c: Commit) => {
    if (c.discarded) c.tainted.clear();
    c.discarded = false;
  };
  for (const e of view.entries as LedgerEntry[]) {
    switch (e.type) {
      case 'experiment_queued': {
        const d = e.data as EntryDataOf<'experiment_queued'>;
        const c = at(d.pr, d.sha);
        restart(c);
        c.author = d.author;
        c.title = d.title;
        break;
      }
      case 'job_dispatched': {
        const d = e.data as EntryDataOf<'job_dispatched'>;
        if (d.pr === null || d.role === 'baseline' || view.longRuns.has(d.job_id) || sideReplayEntry(view, d)) break;
        const c = at(d.pr, d.sha);
        restart(c);
        c.job_id = d.job_id;
        c.author = d.pr_author ?? d.author ?? c.author;
        break;
      }
      case 'result_recorded': {
        const d = e.data as EntryDataOf<'result_recorded'>;
        if (d.pr === null || d.role === 'baseline' || !d.validated || !d.runner_owner) break;
        const job = view.jobs.get(d.job_id);
        if (job?.replay || view.longRuns.has(d.job_id)) break; // a replay checks a run; it is no run of the PR
        const c = at(d.pr, d.sha);
        c.title = d.title ?? c.title;
        if (trust.banned(d.runner_owner) && !trust.proven.has(d.job_id)) c.tainted.add(d.runner_owner);
        break;
      }
      case 'experiment_discarded': {
        const d = e.data as EntryDataOf<'experiment_discarded'>;
        at(d.pr, d.sha).discarded = true;
        break;
      }
      case 'experiment_merged':
      case 'experiment_rejected':
      case 'experiment_dequeued': {
        const d = e.data as { pr: number; sha: string };
        const c = at(d.pr, d.sha);
        c.discarded = false;
        c.tainted.clear();
        break;
      }
      default:
        break;
    }
  }
  const out: Retrial[] = [];
  for (const [k, c] of commits) {
    if (!c.discarded || !c.tainted.size || !c.job_id || !c.author || trust.banned(c.author)) continue;
    const [pr, sha] = k.split('@');
    out.push({ pr: Number(pr), sha, author: c.author, title: c.title, job_id: c.job_id, owners: [...c.tainted].sort() });
  }
  return out.sort((a, b) => a.pr - b.pr);
}
