// The result artifact of one experiment run: `result-<nonce>` holding result.json and train.log,
// where the nonce is the one the run was dispatched with (its title), never the artifact's own say.
import { unzipSync, strFromU8 } from 'fflate';
import { toBytes } from './files.js';
import type { Octo, RepoRef } from './octokit.js';
import { shown } from '../policy/shown.js';

export const ARTIFACT_PREFIX = 'result-';
/** A result artifact is result.json plus a log excerpt: a few hundred KiB. Larger ones are not downloaded. */
export const MAX_ARTIFACT_BYTES = 8 * 1024 * 1024;
/**
 * The largest result.json the App reads. The harness writes ~30 KB (a 256-point loss curve, a
 * replay schedule of at most 16 KB, a sealed box, failure messages clipped at 4,000 characters);
 * the ledger records the result in its entry, so a runner that wrote megabytes would grow the
 * ledger (and every reader of it) by that much per job.
 */
export const MAX_RESULT_BYTES = 128 * 1024;

export interface RunArtifact {
  /** why the run's artifact cannot be read as the job's result, or null */
  problem: string | null;
  /** the artifact names another job than the run's: a forgery, not an accident */
  forged?: boolean;
  resultText: string | null;
  log: string | null;
}

/**
 * The result artifact of run `runId` for the job with `nonce` (2 calls: list, download). A run
 * that uploaded `result-<another nonce>`, more than one result artifact, an oversized or an
 * unreadable one gets a `problem` naming what was wrong.
 */
export async function downloadResult(octokit: Octo, repo: RepoRef, runId: number, nonce: string, maxBytes = MAX_ARTIFACT_BYTES): Promise<RunArtifact> {
  const want = `${ARTIFACT_PREFIX}${nonce}`;
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId, per_page: 100 });
  const results = data.artifacts.filter((a) => a.name.startsWith(ARTIFACT_PREFIX) && !a.expired);
  const none = (problem: string, forged = false): RunArtifact => ({ problem, forged, resultText: null, log: null });
  if (!results.length) return none(`the run uploaded no ${want} artifact with a result.json`);
  const other = results.find((a) => a.name !== want);
  if (other) return none(`the run uploaded an artifact named ${shown(other.name)} instead of ${want}; a run reports only the job it was dispatched for`, true);
  if (results.length > 1) return none(`the run uploaded ${results.length} artifacts named ${want}; it must upload one`);
  const art = results[0];
  if (art.size_in_bytes > maxBytes) return none(`the artifact ${want} is ${art.size_in_bytes} bytes, over the limit of ${maxBytes}; a result is result.json and a log excerpt`);
  const zip = await octokit.rest.actions.downloadArtifact({ ...repo, artifact_id: art.id, archive_format: 'zip' });
  let files: Record<string, Uint8Array>;
  try {
    const bytes = toBytes(zip.data);
    if (bytes.length > maxBytes) return none(`the artifact ${want} is ${bytes.length} bytes, over the limit of ${maxBytes}`);
    // never inflate more than the limit: a small zip can expand to gigabytes
    let inflated = 0;
    files = unzipSync(bytes, {
      filter: (f) => {
        inflated += f.originalSize;
        if (inflated > maxBytes) throw new Error(`it inflates to over ${maxBytes} bytes`);
        return true;
      },
    });
  } catch (e) {
    return none(`the artifact ${want} is not a readable zip (${(e as Error).message})`);
  }
  const pick = (name: string) => {
    const key = Object.keys(files).find((k) => k === name || k.endsWith(`/${name}`));
    return key ? strFromU8(files[key]) : null;
  };
  const resultText = pick('result.json');
  if (resultText !== null && resultText.length > MAX_RESULT_BYTES) return none(`the result.json of ${want} is ${resultText.length} bytes, over the limit of ${MAX_RESULT_BYTES}: the harness writes about 30 KB`);
  return { problem: resultText === null ? `the artifact ${want} holds no result.json` : null, resultText, log: pick('train.log') };
}

/**
 * The runner GitHub says ran the run's job, and how long the job took by GitHub's own clock:
 * trusted, unlike anything inside result.json (the job time caps the training seconds credited).
 */
export async function runnerOfRun(octokit: Octo, repo: RepoRef, runId: number): Promise<{ name: string | null; seconds: number | null }> {
  const { data } = await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: runId, per_page: 20 });
  const job = data.jobs.find((j) => j.runner_name);
  if (!job) return { name: null, seconds: null };
  const t0 = Date.parse(job.started_at);
  const t1 = job.completed_at ? Date.parse(job.completed_at) : NaN;
  return { name: job.runner_name ?? null, seconds: Number.isFinite(t0) && Number.isFinite(t1) && t1 >= t0 ? (t1 - t0) / 1000 : null };
}
