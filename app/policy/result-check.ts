// Whether a returned result is the one the App asked for. Pure: the artifact's text and what
// the App knows from GitHub (the job it dispatched, the runner GitHub says ran it, the hashes it
// recomputed) in, a verdict out. The job is the one the *run* was dispatched for (the nonce in
// its title, which GitHub sets from the dispatch inputs); the artifact only has to agree with it.
import { parseResult, type ExperimentResult } from '../../trainer/result.js';
import type { Role } from '../../trainer/result.js';
import { shown } from './shown.js';

export interface ExpectedJob {
  job_id: string; // the nonce
  role: Role;
  repo: string;
  pr: number | null;
  sha: string;
  /** the dispatch's eval seed and budget, from the job_dispatched entry */
  eval_seed?: number;
  budget_seconds?: number;
  /** the dispatch's training seed (absent in entries from before it was drawn per run) */
  seed?: number;
  /** the hardware class recorded when the runner that ran the job was registered */
  registered_class?: string | null;
}

export type ResultCheck =
  | { validated: true; result: ExperimentResult; reason: null; forged: false }
  | { validated: false; result: ExperimentResult | null; reason: string; forged: boolean; fault?: boolean; /** the App could not read the job's train.ts: no one's forgery, the commit's code is gone */ gone?: true };

/**
 * The nonce of the job a run was dispatched for, from its title: experiment.yml's run-name ends
 * in `[<nonce>]`, rendered by GitHub from the dispatch inputs (a runner cannot change it).
 */
export function nonceOfRunTitle(title: string | null | undefined): string | null {
  const m = /\[([A-Za-z0-9_-]{8,100})\]\s*$/.exec(title ?? '');
  return m ? m[1] : null;
}

/**
 * `text`: result.json of the run's artifact, or null with `artifact.problem` saying why there is
 * none (missing, misnamed, oversized, unreadable; `forged` when it names another job). `candidateSha256`: sha256 of train.ts at the
 * job's sha as GitHub serves it, or null where GitHub serves none (the commit or the file gone since the
 * dispatch: a deleted fork, a force-push): the result is then refused as `gone`, never as a forgery,
 * since the runner cannot have caused it (a PR's author could so frame every runner of the job); `harnessSha256`: the harness hash of the default branch. A
 * result that fails any check is recorded as rejected with the first reason; it earns nothing
 * and scores nothing. `forged` marks a result that names another job or input than the dispatch
 * (a claim the runner's owner made up), as opposed to one that is merely unreadable. `fault` marks
 * a forgery no honest harness can produce whatever its machine, version or timing (an artifact or
 * nonce of another job, seeds or budget other than the dispatch's): it counts as a fault of the
 * owner toward a ban (docs/trust.md 2), not only as a refusal.
 */
export function checkResult(
  text: string | null,
  expected: ExpectedJob,
  candidateSha256: string | null,
  harnessSha256: string,
  artifact: { problem: string | null; forged?: boolean } = { problem: null },
): ResultCheck {
  if (artifact.problem !== null) return { validated: false, result: null, reason: artifact.problem, forged: artifact.forged ?? false, ...(artifact.forged ? { fault: true } : {}) };
  if (text === null) return { validated: false, result: null, reason: `the run uploaded no result-${expected.job_id} artifact with a result.json`, forged: false };
  let result: ExperimentResult;
  try {
    result = parseResult(text, `result-${expected.job_id}/result.json`);
  } catch (e) {
    return { validated: false, result: null, reason: shown((e as Error).message, 400), forged: false };
  }
  const job = result.job;
  const forged = (reason: string, fault = false): ResultCheck => ({ validated: false, result, reason, forged: true, ...(fault ? { fault } : {}) });
  if (!job) return { validated: false, result, reason: 'result.json has no job block; only results written by the experiment workflow count', forged: false };
  if (job.nonce !== expected.job_id) return forged(`nonce ${shown(job.nonce)} is not the nonce ${expected.job_id} this job was dispatched with`, true);
  if (job.role !== expected.role) return forged(`role ${job.role} differs from the dispatched role ${expected.role}`);
  if (job.repo.toLowerCase() !== expected.repo.toLowerCase()) return forged(`repo ${shown(job.repo)} differs from ${expected.repo}`);
  if (job.pr !== expected.pr) return forged(`pr ${job.pr} differs from the dispatched pr ${expected.pr}`);
  if (job.sha !== expected.sha) return forged(`sha ${job.sha} differs from the dispatched sha ${expected.sha}`);
  if (expected.eval_seed !== undefined && result.eval_seed !== expected.eval_seed) {
    return forged(`eval_seed ${result.eval_seed} differs from the dispatched eval seed ${expected.eval_seed}`, true);
  }
  if (expected.seed !== undefined && result.seed !== expected.seed) {
    return forged(`seed ${result.seed} differs from the dispatched training seed ${expected.seed}`, true);
  }
  if (expected.budget_seconds !== undefined && result.budget_seconds !== expected.budget_seconds) {
    return forged(`budget_seconds ${result.budget_seconds} differs from the dispatched budget ${expected.budget_seconds}`, true);
  }
  if (expected.registered_class != null && result.hardware_class !== expected.registered_class) {
    return forged(`hardware class ${shown(result.hardware_class)} is not the class ${expected.registered_class} its runner was registered with`);
  }
  if (candidateSha256 !== null && result.candidate_sha256 !== candidateSha256) {
    return forged(`candidate sha256 ${result.candidate_sha256} is not the sha256 ${candidateSha256} of train.ts at ${expected.sha}`);
  }
  if (result.harness_sha256 !== harnessSha256) {
    return forged(`harness sha256 ${result.harness_sha256} is not the default branch's harness sha256 ${harnessSha256}`);
  }
  if (candidateSha256 === null) return { validated: false, result, reason: unreadableCandidate(expected.sha), forged: false, gone: true };
  if (result.eval_split !== 'heldout' && expected.role !== 'local') return { validated: false, result, reason: 'an official run must evaluate on the held-out split', forged: false };
  return { validated: true, result, reason: null, forged: false };
}

/** Why a result whose candidate GitHub no longer serves is refused (the runner's doing in no way). */
export function unreadableCandidate(sha: string): string {
  return `the App cannot read trainer/train.ts at ${sha} from GitHub (the commit or the file is gone since the dispatch: a deleted fork, a force-push), so the result cannot be checked against it; not its runner's fault`;
}

/** Failures that are the harness's or the machine's fault earn the runner nothing. */
export function earnsCredit(result: ExperimentResult): boolean {
  return result.status === 'ok' || (result.failure !== null && result.failure.kind !== 'harness_error');
}
