// The result artifact of one experiment run: `result-<nonce>` holding result.json and train.log.
import { unzipSync, strFromU8 } from 'fflate';
import { toBytes } from './files.js';
import type { Octo, RepoRef } from './octokit.js';

export const ARTIFACT_PREFIX = 'result-';

export interface RunArtifact {
  nonce: string;
  resultText: string | null;
  log: string | null;
}

/** The run's result artifact, or null when it uploaded none (2 calls: list, download). */
export async function downloadResult(octokit: Octo, repo: RepoRef, runId: number): Promise<RunArtifact | null> {
  const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: runId, per_page: 100 });
  const art = data.artifacts.find((a) => a.name.startsWith(ARTIFACT_PREFIX) && !a.expired);
  if (!art) return null;
  const nonce = art.name.slice(ARTIFACT_PREFIX.length);
  const zip = await octokit.rest.actions.downloadArtifact({ ...repo, artifact_id: art.id, archive_format: 'zip' });
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(toBytes(zip.data));
  } catch (e) {
    return { nonce, resultText: null, log: `the artifact ${art.name} is not a readable zip (${(e as Error).message})` };
  }
  const pick = (name: string) => {
    const key = Object.keys(files).find((k) => k === name || k.endsWith(`/${name}`));
    return key ? strFromU8(files[key]) : null;
  };
  return { nonce, resultText: pick('result.json'), log: pick('train.log') };
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
