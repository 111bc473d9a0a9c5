// Dispatching the replays of baseline runs and fresh-seed verify runs that the ledger says are
// due (app/policy/side-replays.ts): one per run at a time, on a runner of an owner who has not
// run it, from the scheduler (so a lost, rejected or overdue replay is followed by the next),
// taking the in-flight slots before queued PRs do.
import { dispatchJobs, type NewJob } from './dispatch.js';
import { jobRefs } from './jobs.js';
import { viewOf, type LedgerView } from './ledger-view.js';
import { pickVerifierLabel } from './policy/runners.js';
import { listRunners } from './github/runners.js';
import { sideReplaysDue } from './policy/side-replays.js';
import type { Session } from './session.js';

export async function dispatchSideReplays(s: Session, view: LedgerView): Promise<LedgerView> {
  // within the in-flight limit, before the queue's PRs: a replay sent past it waited in GitHub's
  // queue behind the class's other runs until its deadline, and was sent again (a small swarm
  // queued hundreds so)
  const slots = Math.max(0, s.cfg.config.max_in_flight - view.open.length);
  const due = sideReplaysDue(view, s.seal);
  if (!due.length || !slots) return view;
  const runners = await listRunners(s.octokit, s.repo);
  const banned = [...view.state.trust.owners.values()].filter((o) => o.banned).map((o) => o.login);
  const idle = runners.filter((r) => !r.busy);
  const jobs: NewJob[] = [];
  for (const d of due) {
    if (jobs.length >= slots) break;
    const excluded = [...d.exclude, ...banned];
    // no online runner of an owner who may run it: not sent. The class's label would reach only
    // owners who ran or replayed the run already; refused as not independent, sent again, the run
    // dropped and run again, replayed again: a class of one honest owner and one adversary filled
    // the in-flight slots so (docs/trust.md 2b). The run awaits its replay until such an owner is
    // online, and takes no slot meanwhile: the slots go to the replays that can be sent (when the
    // first ones due could not, none was sent, and a small swarm's baselines waited for ever).
    if (!pickVerifierLabel(runners, d.hardware_class, excluded)) continue;
    jobs.push({
      role: 'verify',
      pr: d.pr,
      sha: d.sha,
      author: null,
      hardware_class: d.hardware_class,
      // an idle runner of an eligible owner, else the class's label: a replay sent to a busy owner's
      // runner waited behind the class's other runs past its deadline, again and again (a small swarm
      // queued hundreds so); one that lands on an excluded owner's runner is refused and replayed again,
      // but once one sent there came back refused, a busy eligible owner's (policy/side-replays.ts classLabel)
      runner_label: pickVerifierLabel(idle, d.hardware_class, excluded) ?? (d.classLabel ? d.hardware_class : pickVerifierLabel(runners, d.hardware_class, excluded)!),
      attempt: d.attempt,
      verifies: d.original,
      // a verify run's replay may settle its claim (judge.ts continueClaim): it reports on the PR's check and comment
      check: d.pr !== null ? jobRefs(d.original).check : null,
      comment: d.pr !== null ? jobRefs(d.original).comment : null,
      pay: null,
      budget_seconds: d.budget_seconds,
      title: d.title,
      pr_author: d.pr_author,
      replay: d.replay,
    });
  }
  if (!jobs.length) return view;
  const ids = await dispatchJobs(s, jobs, [], {}, view.entries);
  return ids?.length ? viewOf(await s.ledger.read()) : view;
}
