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

/** The runner GitHub says ran the run's job: trusted, unlike the name inside result.json. */
export async function runnerOfRun(octokit: Octo, repo: RepoRef, runId: number): Promise<string | null> {
  const { data } = await octokit.rest.actions.listJobsForWorkflowRun({ ...repo, run_id: runId, per_page: 20 });
  return data.jobs.find((j) => j.runner_name)?.runner_name ?? null;
}
