// Whether a returned result is the one the App asked for. Pure: the artifact's text and what
// the App knows from GitHub (the job it dispatched, the hashes it recomputed) in, a verdict out.
import { parseResult, type ExperimentResult } from '../../trainer/result.js';
import type { Role } from '../../trainer/result.js';

export interface ExpectedJob {
  job_id: string; // the nonce
  role: Role;
  repo: string;
  pr: number | null;
  sha: string;
  /** the run's title as GitHub shows it: experiment.yml's run-name ends in `[<nonce>]` of the dispatch */
  run_title?: string | null;
}

export type ResultCheck =
  | { validated: true; result: ExperimentResult; reason: null }
  | { validated: false; result: ExperimentResult | null; reason: string };

/**
 * `candidateSha256`: sha256 of train.ts at the job's sha as GitHub serves it; `harnessSha256`:
 * the harness hash of the default branch. A result that fails any check is recorded as
 * rejected with the first reason; it earns nothing and scores nothing.
 */
export function checkResult(text: string | null, expected: ExpectedJob, candidateSha256: string, harnessSha256: string): ResultCheck {
  if (text === null) return { validated: false, result: null, reason: `the run uploaded no result-${expected.job_id} artifact with a result.json` };
  let result: ExperimentResult;
  try {
    result = parseResult(text, `result-${expected.job_id}/result.json`);
  } catch (e) {
    return { validated: false, result: null, reason: (e as Error).message };
  }
  const job = result.job;
  const reject = (reason: string): ResultCheck => ({ validated: false, result, reason });
  // GitHub titles the run from the dispatch inputs, so this binds the artifact to the run it came from.
  if (expected.run_title && !expected.run_title.includes(`[${expected.job_id}]`)) {
    return reject(`the artifact names job ${expected.job_id} but the run was dispatched as "${expected.run_title}"`);
  }
  if (!job) return reject('result.json has no job block; only results written by the experiment workflow count');
  if (job.nonce !== expected.job_id) return reject(`nonce ${job.nonce} is not the nonce ${expected.job_id} this job was dispatched with`);
  if (job.role !== expected.role) return reject(`role ${job.role} differs from the dispatched role ${expected.role}`);
  if (job.repo.toLowerCase() !== expected.repo.toLowerCase()) return reject(`repo ${job.repo} differs from ${expected.repo}`);
  if (job.pr !== expected.pr) return reject(`pr ${job.pr} differs from the dispatched pr ${expected.pr}`);
  if (job.sha !== expected.sha) return reject(`sha ${job.sha} differs from the dispatched sha ${expected.sha}`);
  if (result.candidate_sha256 !== candidateSha256) {
    return reject(`candidate sha256 ${result.candidate_sha256} is not the sha256 ${candidateSha256} of train.ts at ${expected.sha}`);
  }
  if (result.harness_sha256 !== harnessSha256) {
    return reject(`harness sha256 ${result.harness_sha256} is not the default branch's harness sha256 ${harnessSha256}`);
  }
  if (result.eval_split !== 'heldout' && expected.role !== 'local') return reject('an official run must evaluate on the held-out split');
  return { validated: true, result, reason: null };
}

/** Failures that are the harness's or the machine's fault earn the runner nothing. */
export function earnsCredit(result: ExperimentResult): boolean {
  return result.status === 'ok' || (result.failure !== null && result.failure.kind !== 'harness_error');
}
