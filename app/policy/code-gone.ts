// A run whose candidate GitHub no longer serves (app/policy/result-check.ts, `gone`): the commit or
// its train.ts is gone since the dispatch (a deleted fork, a force-push). No run of it can be
// checked any more, so it is not sent to another runner: the commit is given up (discarded, its
// author pushes again) and its other open runs are closed. Nobody is faulted: the runner did not
// cause it. Pure over the ledger view.
import type { NewEntry } from '../../ledger/index.js';
import { closeJob } from '../dispatch.js';
import type { Dispatched, LedgerView } from '../ledger-view.js';
import type { Judged } from '../handlers/judge.js';

export function codeGone(view: LedgerView, job: Dispatched, reason: string): Judged {
  const others = view.open.filter((j) => job.pr !== null && j.job_id !== job.job_id && j.pr === job.pr && j.sha === job.sha && j.role !== 'baseline' && !view.longRuns.has(j.job_id));
  const news: NewEntry[] = others.map((j) => closeJob(j, `the code of ${job.sha} is gone: ${reason}`));
  return { out: { kind: 'give_up', reason }, baseline: null, news, replay: null };
}
