// The job-started hook `runner join` installs in each fresh runner copy: only the swarm's
// experiment workflow of the default branch, dispatched by the App, runs (runner/hooks/job-started.sh).
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HOOK_TEMPLATE = new URL('./hooks/job-started.sh', import.meta.url);
/** The runner reads the hook's absolute path from this variable of its own environment. */
export const HOOK_ENV = 'ACTIONS_RUNNER_HOOK_JOB_STARTED';

/** The hook's text for one swarm: its repository, its experiment workflow file, and the node that parses the event. */
export function jobStartedHook(repo: string, workflowFile = 'experiment.yml', node = process.execPath): string {
  if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(repo)) throw new Error(`hook: ${JSON.stringify(repo)} is not owner/name.`);
  if (!/^[A-Za-z0-9._-]+\.ya?ml$/.test(workflowFile)) throw new Error(`hook: ${JSON.stringify(workflowFile)} is not a workflow file name such as experiment.yml.`);
  if (/['\n]/.test(node)) throw new Error(`hook: the node path ${JSON.stringify(node)} may not hold a quote or a newline.`);
  return readFileSync(HOOK_TEMPLATE, 'utf8').replace('@SWARM_REPO@', repo).replace('@WORKFLOW_FILE@', workflowFile).replace('@NODE@', node);
}

/** Writes the hook into a runner directory (outside its _work folder); returns its absolute path. */
export async function installHook(runnerDir: string, repo: string, workflowFile?: string): Promise<string> {
  const dir = join(runnerDir, 'autoresearch-hooks');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'job-started.sh');
  await writeFile(path, jobStartedHook(repo, workflowFile));
  await chmod(path, 0o755);
  return path;
}
