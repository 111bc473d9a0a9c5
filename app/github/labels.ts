// The experiment:* label is the PR's visible state; other labels are kept as they are. A PR
// has at most one: none while its commit runs (the val_bpb check run says "in progress").
import { status, type Octo, type RepoRef } from './octokit.js';

export const EXPERIMENT_STATES = ['queued', 'verifying', 'waiting-baseline', 'merged', 'discarded', 'invalid', 'improvement', 'conflict'] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];
export const label = (s: ExperimentState) => `experiment:${s}`;
const isState = (name: string) => name.startsWith('experiment:');

export function stateOf(labels: { name: string }[]): ExperimentState | null {
  const found = labels.map((l) => l.name).find(isState);
  return found ? (found.slice('experiment:'.length) as ExperimentState) : null;
}

/**
 * Sets the state when the PR's labels are known (a pull_request payload): one call (PUT
 * .../labels), none when it is already so. `state` null removes the experiment:* label.
 */
export async function setState(octokit: Octo, repo: RepoRef, pr: number, current: { name: string }[], state: ExperimentState | null): Promise<void> {
  const names = current.map((l) => l.name);
  const keep = names.filter((n) => !isState(n));
  const want = state ? [...keep, label(state)] : keep;
  if (want.length === names.length && want.every((n) => names.includes(n))) return;
  await octokit.rest.issues.setLabels({ ...repo, issue_number: pr, labels: want });
}

/**
 * Sets the state without knowing the PR's labels: adds it (POST answers with all the labels)
 * and removes any other experiment:* label it shows, so usually one call.
 */
export async function moveState(octokit: Octo, repo: RepoRef, pr: number, state: ExperimentState): Promise<void> {
  const { data } = await octokit.rest.issues.addLabels({ ...repo, issue_number: pr, labels: [label(state)] });
  for (const l of data.filter((l) => isState(l.name) && l.name !== label(state))) await removeState(octokit, repo, pr, l.name);
}

/** Removes one experiment:* label; one already gone is fine. */
export async function removeState(octokit: Octo, repo: RepoRef, pr: number, name: string): Promise<void> {
  try {
    await octokit.rest.issues.removeLabel({ ...repo, issue_number: pr, name });
  } catch (e) {
    if (status(e) !== 404) throw e;
  }
}
