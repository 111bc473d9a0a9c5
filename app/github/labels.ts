// The experiment:* label is the PR's visible state; other labels are kept as they are.
import type { Octo, RepoRef } from './octokit.js';

export const EXPERIMENT_STATES = ['queued', 'running', 'verifying', 'waiting-baseline', 'merged', 'discarded', 'invalid', 'improvement', 'conflict'] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];
export const label = (s: ExperimentState) => `experiment:${s}`;

export function stateOf(labels: { name: string }[]): ExperimentState | null {
  const found = labels.map((l) => l.name).find((n) => n.startsWith('experiment:'));
  return found ? (found.slice('experiment:'.length) as ExperimentState) : null;
}

/** Replaces the experiment:* label in one call (PUT .../labels), keeping every other label. */
export async function setState(octokit: Octo, repo: RepoRef, pr: number, current: { name: string }[], state: ExperimentState): Promise<void> {
  const keep = current.map((l) => l.name).filter((n) => !n.startsWith('experiment:'));
  if (current.some((l) => l.name === label(state)) && current.filter((l) => l.name.startsWith('experiment:')).length === 1) return;
  await octokit.rest.issues.setLabels({ ...repo, issue_number: pr, labels: [...keep, label(state)] });
}
