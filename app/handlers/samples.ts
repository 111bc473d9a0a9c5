// Baseline samples and the replays that settle them (docs/trust.md 2b): recording a baseline run
// (its class's baseline once enough runs count), and recording a replay of a baseline run or of a
// fresh-seed verify run (a reproduced baseline run may complete the baseline; an outvoted one is
// run again by someone else). Neither touches a PR's check or labels.
import { appendEntries, type NewEntry } from '../../ledger/index.js';
import { baselineAwaiting, baselineDue, baselineJobsFor, baselineShort } from '../baselines.js';
import { dispatchJobs } from '../dispatch.js';
import { classAt, viewOf, type Dispatched, type LedgerView } from '../ledger-view.js';
import type { Outcome } from '../policy/outcome.js';
import type { ResultCheck } from '../policy/result-check.js';
import { record, recordUnless } from '../record.js';
import { claimToContinue } from '../policy/side-replays.js';
import { schedule } from '../scheduler.js';
import type { Session } from '../session.js';

interface Sample {
  s: Session;
  job: Dispatched;
  checked: ResultCheck;
  news: NewEntry[];
  files: Record<string, string>;
}

/** The view once `news` are appended (what the fold will make of them). */
const withNews = (view: LedgerView, news: NewEntry[]) => viewOf([...view.entries, ...appendEntries(view.entries, news)]);

/**
 * Appends the baseline of `cls` at `sha` to `news` when the runs that count allow one, records
 * them, and asks for the runs the baseline still lacks: a replacement for each run that no longer
 * counts, and, when nothing waits for a replay and the owners so far disagree, one more run.
 */
async function recordSample(x: Sample, view: LedgerView, cls: string, sha: string): Promise<void> {
  const { s } = x;
  const c = s.cfg.config;
  const news = [...x.news];
  const b = baselineDue(withNews(view, news), cls, sha, c);
  if (b) news.push(b);
  const after = await record(s, view, x.job.job_id, news, x.files);
  if (!after) return;
  // runs still missing (a dropped one's replacement), or, when every run counts and no two owners
  // agree yet, one more run of the class, up to twice the configured count (baselines.ts)
  if (!after.baselines.has(classAt(cls, sha)) && (!baselineAwaiting(after, cls, sha) || baselineShort(after, cls, sha, c))) {
    const jobs = await baselineJobsFor(s, after, cls, sha, c);
    if (jobs.length) await dispatchJobs(s, jobs, [], {}, after.entries);
  }
  return schedule(s, after); // PRs that waited for this baseline are judged, or run again (app/waiting.ts)
}

/** A baseline run's result (validated: its class is the one its runner registered). */
export function recordBaselineRun(x: Sample, view: LedgerView): Promise<void> {
  return recordSample(x, view, x.checked.result!.hardware_class, x.job.sha);
}

/**
 * A replay of a baseline run or of a fresh-seed verify run: recorded with its verdict (if any).
 * 'stale': not recorded, because on the chain really appended to (newer than `view`) the claim of
 * the verify run it replays goes on with it (judge.ts continueClaim), and on `view` it did not (a
 * verify run of the claim was still open there): judge it again on that chain (`mayRedo`). Before,
 * a second App process whose view was minutes old recorded the verdict alone, nothing continued
 * the claim, and its PR stalled or was queued to train again (the fault run, seed 1).
 */
export async function settleSideReplay(x: Sample, view: LedgerView, out: Extract<Outcome, { kind: 'side_replay' }>, mayRedo = false): Promise<'stale' | void> {
  if (out.baseline) return recordSample(x, view, out.baseline.hardware_class, out.baseline.sha);
  const stale = (newer: LedgerView) => mayRedo && claimToContinue(view, x.job) === null && claimToContinue(newer, x.job) !== null;
  const after = await recordUnless(x.s, view, x.job.job_id, x.news, x.files, stale);
  if (after === 'vetoed') return 'stale';
  if (after) return schedule(x.s, after); // a next replay, when this one settled nothing (app/side-replays.ts)
}
