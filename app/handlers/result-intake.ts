// The intake of one experiment run's result: which job the run was dispatched for (its title,
// never its artifact), which registered runner ran it and for whom, and whether the artifact is
// that job's result. Reads GitHub; decides nothing itself (app/policy/result-check.ts does) and
// writes nothing: it hands workflow-run.ts the entries to record.
import { createTwoFilesPatch } from 'diff';
import { reversalsForForgery, type NewEntry } from '../../ledger/index.js';
import { forgeryBan } from '../policy/replication.js';
import { flatFault } from '../policy/flat-scores.js';
import { CANDIDATE_PATH, sha256 } from '../../trainer/harness-version.js';
import { datasetProblem } from '../data-pins.js';
import { closeJob, resultEntry } from '../dispatch.js';
import { downloadResult, runnerOfRun } from '../github/artifact.js';
import { candidateAt, harnessAt } from '../github/hashes.js';
import type { Dispatched, LedgerView } from '../ledger-view.js';
import { ineligible, type Registration } from '../policy/eligibility.js';
import { givenBack, offPace, paceHistory } from '../policy/pace.js';
import { withContainment } from '../policy/containment.js';
import { checkResult, nonceOfRunTitle, type ResultCheck } from '../policy/result-check.js';
import { checkSeal } from '../policy/replays.js';
import { digestCommitment } from '../../ledger/index.js';
import { fleetRegistration, type ApiRunner } from '../policy/runners.js';
import type { Session } from '../session.js';

export interface CompletedRun {
  id: number;
  display_title?: string | null;
  head_sha: string;
  html_url: string;
}

export type Intake =
  /** nothing to record: the run names no job (`tick`: the queue may still move), or its job already has a result */
  | { kind: 'skip'; why: string; tick: boolean }
  /** the run names a nonce the App never dispatched: recorded under that nonce, with the reason */
  | { kind: 'stray'; job_id: string; news: NewEntry[] }
  | {
      kind: 'job';
      job: Dispatched;
      runnerName: string | null;
      runnerOwner: string | null;
      checked: ResultCheck;
      /** the PR as GitHub serves it, when its title and author were not recorded at dispatch */
      pull: { number: number; title: string; head: { sha: string }; user: { login: string } | null } | null;
      /** the result entry, first; a fleet runner's registration and forgery reversals with it */
      news: NewEntry[];
      /** the time stamped on the result entry: the spot-check draw's input (ledger/trust.ts) */
      time: string;
      /** the checkpoint digest the run sealed to the App's key, opened (secret: the entry records only its commitment), or null */
      digest: string | null;
    };

export async function takeResult(s: Session, run: CompletedRun, view: LedgerView): Promise<Intake> {
  const nonce = nonceOfRunTitle(run.display_title);
  if (!nonce) return { kind: 'skip', why: `run ${run.id} is titled "${run.display_title ?? ''}", which names no job nonce`, tick: true };
  const job = view.jobs.get(nonce);
  if (!job) {
    if (view.state.results.has(nonce)) return { kind: 'skip', why: `nonce ${nonce} was already recorded as stray`, tick: false };
    const reason = `no job was dispatched with nonce ${nonce} (run ${run.html_url})`;
    return { kind: 'stray', job_id: nonce, news: [closeJob({ job_id: nonce, role: 'candidate', pr: null, sha: run.head_sha, author: null }, reason)] };
  }
  // Redelivered, or closed (superseded, overdue) before the run reported: nothing to do twice.
  if (view.state.results.has(job.job_id)) return { kind: 'skip', why: `job ${job.job_id} already has a result`, tick: false };

  const { name: runnerName, seconds: jobSeconds } = await runnerOfRun(s.octokit, s.repo, run.id);
  const news: NewEntry[] = [];
  let runner: (Registration & { hardware_class: string }) | undefined = runnerName ? view.registry.get(runnerName) : undefined;
  if (runnerName && !runner) {
    const reg = await fleetRunner(s, runnerName);
    if (reg) {
      news.push(reg);
      runner = reg.data;
    }
  }
  const runnerOwner = runner?.owner ?? null;
  const refused = !runnerName
    ? 'GitHub names no runner for the run\'s job, so its result cannot be bound to a registered runner'
    : !runner
      ? `the job ran on runner ${runnerName}, which is not registered with the swarm (neither through \`runner join\` nor by an admin with owner- and class labels)`
      : ineligible(runner, s.cfg.config.runners, view.state.trust, s.now());
  const art = refused ? { problem: refused, resultText: null, log: null } : await downloadResult(s.octokit, s.repo, run.id, job.job_id);
  const harness = await harnessAt(s.octokit, s.repo, run.head_sha);
  const candidate = job.role === 'baseline' ? harness.candidate : ((await candidateAt(s.octokit, s.repo, job.sha))?.bytes ?? null);
  const bound = withContainment(checkResult(
    art.resultText,
    { job_id: job.job_id, role: job.role, repo: s.fullName, pr: job.pr, sha: job.sha, eval_seed: job.eval_seed, seed: job.seed, budget_seconds: job.budget_seconds, registered_class: runner?.hardware_class ?? null },
    candidate ? sha256(candidate) : null,
    harness.sha256,
    art,
  ), runnerOwner, s.cfg.config.containment, runner?.owner_id);
  // A job given back before training (off_pace, against the floor its dispatch sent), and a valid
  // result from a machine off its usual pace, are not scored: they run again elsewhere, no fault.
  const back = bound.validated ? givenBack(bound.result, job.pace_floors) : null;
  const cal = bound.result?.calibration;
  const slow = back ? null : bound.validated && cal ? offPace(cal, paceHistory(view.state, bound.result.hardware_class, cal.workload, runnerOwner), s.cfg.config.trust.pace_tolerance) : null;
  const otherData = bound.validated ? datasetProblem(bound.result, s.cfg.config) : null;
  // A result must carry what its dispatch asked for replays: the schedule it replays, its digest sealed (docs/trust.md, "Replays").
  const sealing = bound.validated ? checkSeal(bound.result, job, s.seal) : { problem: null, digest: null };
  const checked: ResultCheck = sealing.problem || back
    ? { validated: false, result: bound.result, reason: (sealing.problem ?? back!.reason) as string, forged: sealing.problem ? true : back!.forged, ...(sealing.problem && sealing.fault ? { fault: true } : {}) }
    : slow || otherData
      ? { validated: false, result: bound.result, reason: (slow ?? otherData) as string, forged: false }
      : bound;
  const digest = checked.validated ? sealing.digest : null;

  // The PR's title and author were recorded at dispatch; jobs from older entries look them up.
  const pull = job.pr !== null && job.title === undefined ? (await s.octokit.rest.pulls.get({ ...s.repo, pull_number: job.pr })).data : null;
  // The diff is archived inside the result entry: the chain covers it and the append stays one file.
  let diff: string | null = null;
  if (job.role === 'candidate' && candidate && harness.candidate) {
    const dec = new TextDecoder();
    diff = createTwoFilesPatch(`a/${CANDIDATE_PATH}`, `b/${CANDIDATE_PATH}`, dec.decode(harness.candidate), dec.decode(candidate), run.head_sha, job.sha);
  }
  const time = s.now().toISOString();
  const recorded = resultEntry(
    { ...job, author: pull?.user?.login ?? job.pr_author ?? job.author },
    {
      title: pull?.title ?? job.title ?? null,
      runner_name: runnerName,
      runner_owner: runnerOwner,
      run_url: run.html_url,
      validated: checked.validated,
      reason: checked.reason,
      result: checked.result,
      diff_path: null,
      diff_sha256: null,
      diff,
      log_excerpt: art.log ? art.log.slice(-2000) : null,
      job_seconds: jobSeconds,
      ...(digest ? { digest_commitment: digestCommitment(digest, job.job_id) } : {}),
      ...(!checked.validated && checked.fault && runnerOwner ? { forgery: true as const } : {}),
    },
  );
  news.unshift({ ...recorded, time });
  // A result that names another job or input than its dispatch is a forgery by the runner's owner.
  if (checked.forged && runnerOwner) news.push(...reversalsForForgery(view.entries, runnerOwner, `forged result for job ${job.job_id}: ${checked.reason}`));
  // a forgery no honest harness produces is a fault of the owner too: trust reset, a ban at ban_after_faults
  if (!checked.validated && checked.fault && runnerOwner) news.push(...forgeryBan(view.state, view.state.trust.policy, runnerOwner, job.job_id, news));
  // a first run that completes a flat pattern (scores near the baseline without training) is a fault too
  news.push(...flatFault(view.state, recorded.data, news));
  return { kind: 'job', job, runnerName, runnerOwner, checked, pull, news, time, digest };
}

/**
 * A runner the route did not register (a fleet's scale set, registered by a repository admin):
 * only an admin can create a runner with labels outside the route, so its `owner-<login>` and
 * class labels are taken as its registration, recorded in the ledger at its first result. One
 * call, only for such runners; null when it has no owner label or not exactly one class label.
 */
async function fleetRunner(s: Session, runnerName: string): Promise<NewEntry<'runner_registered'> | null> {
  const { data } = await s.octokit.rest.actions.listSelfHostedRunnersForRepo({ ...s.repo, name: runnerName, per_page: 1 });
  const r = (data.runners as ApiRunner[]).find((x) => x.name === runnerName);
  const reg = r ? fleetRegistration(r) : null;
  return reg ? { type: 'runner_registered', data: reg } : null;
}
