// Containment decisions, pure: which results may score, and whether the App may dispatch at all.
//
// - A result from a run whose candidate was not contained (isolation none: no container, no
//   sandbox) could have read the evaluation text or tampered with its own run; it scores only if
//   the operator's config trusts that runner's fleet (an operator's own actions-runner-controller
//   pods, which are the container), named by the owner login its runners carry.
// - Experiment runners must be reached by the experiment workflow only. On a public repository
//   GitHub runs an outside contributor's pull-request workflows without approval unless the
//   repository requires approval for all outside contributors; until it does, a PR could add a
//   workflow with `runs-on: [self-hosted, autoresearch]` and run on volunteers' machines outside
//   any container, so the App dispatches nothing and says why.
import type { ExperimentResult } from '../../trainer/result.js';
import type { ResultCheck } from './result-check.js';
import { names } from './eligibility.js';

/** GitHub's fork PR contributor approval policy (GET /repos/{owner}/{repo}/actions/permissions/fork-pr-contributor-approval). */
export type ForkApprovalPolicy = 'first_time_contributors_new_to_github' | 'first_time_contributors' | 'all_external_contributors';

export const SAFE_FORK_APPROVAL: ForkApprovalPolicy = 'all_external_contributors';

const SETTING = 'Settings → Actions → General → "Approval for running fork pull request workflows from contributors" → "Require approval for all external contributors"';

/**
 * Why the App must not dispatch, or null when it may. `policy`: what GitHub answered; null when
 * the App could not read it (no permission, or an answer it does not know): then it refuses too.
 */
export function forkApprovalRefusal(policy: string | null): string | null {
  if (policy === SAFE_FORK_APPROVAL) return null;
  if (policy === null) {
    return `The App cannot read this repository's fork pull request approval policy, so it cannot tell whether a pull request's own workflow could reach the swarm's self-hosted runners; no experiment is dispatched. Grant the App "Administration: read" (it reads GET /repos/{owner}/{repo}/actions/permissions/fork-pr-contributor-approval), and set ${SETTING}.`;
  }
  const who = policy === 'first_time_contributors' ? 'anyone who has had a pull request merged before' : policy === 'first_time_contributors_new_to_github' ? 'anyone whose GitHub account is not brand new' : `contributors under policy "${policy}"`;
  return `This repository runs pull request workflows of ${who} without approval, so such a pull request could add a workflow that runs on the volunteers' self-hosted runners, outside any container; no experiment is dispatched until ${SETTING} is set.`;
}

export interface ContainmentConfig {
  /** owners whose runners' uncontained (isolation none) results count (an operator's fleets): a login, or `id:<n>` the GitHub account whatever its login (app/policy/eligibility.ts names) */
  trusted_fleets: string[];
}

/** Why a result from this runner may not score, or null. `ownerId`: the account id its registration recorded (the runner route's; none for a fleet runner). */
export function uncontainedRefusal(result: ExperimentResult, runnerOwner: string | null, cfg: ContainmentConfig, ownerId?: number): string | null {
  const isolation = result.job?.isolation;
  if (isolation === 'docker' || isolation === 'sandbox') return null;
  if (runnerOwner !== null && cfg.trusted_fleets.some((f) => names(f, runnerOwner, ownerId))) return null;
  return `the run was not contained (isolation ${isolation ?? 'unknown'}): its candidate could read the evaluation text and reach the runner, so its score does not count; runners must use Docker or the bubblewrap sandbox${runnerOwner ? `, or the swarm's config must trust the fleet of ${runnerOwner} (containment.trusted_fleets)` : ''}`;
}

/** A validated check turned into a rejected one when the run was not contained. */
export function withContainment(checked: ResultCheck, runnerOwner: string | null, cfg: ContainmentConfig, ownerId?: number): ResultCheck {
  if (!checked.validated) return checked;
  const reason = uncontainedRefusal(checked.result, runnerOwner, cfg, ownerId);
  return reason === null ? checked : { validated: false, result: checked.result, reason, forged: false };
}
