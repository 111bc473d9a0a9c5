// The gate in front of every scheduled dispatch: while the repository lets outside contributors'
// pull-request workflows run without approval, nothing is dispatched, and the check runs of the
// PRs next in line say why (app/policy/containment.ts decides; this reads and reports).
import { forkApprovalPolicy } from './github/fork-approval.js';
import { updateCheck } from './github/checks.js';
import { readyQueue, type LedgerView } from './ledger-view.js';
import { forkApprovalRefusal } from './policy/containment.js';
import type { Session } from './session.js';

/** Why nothing may be dispatched now, or null. */
export async function dispatchRefusal(s: Session): Promise<string | null> {
  return forkApprovalRefusal(await forkApprovalPolicy(s.octokit, s.repo));
}

/** For the scheduler: true when it may dispatch; else the queued PRs' check runs say why. */
export async function dispatchAllowed(s: Session, view: LedgerView): Promise<boolean> {
  const refusal = await dispatchRefusal(s);
  if (refusal === null) return true;
  s.log.warn(`${s.fullName}: not dispatching: ${refusal}`);
  for (const q of readyQueue(view).slice(0, s.cfg.config.max_in_flight)) {
    if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, { status: 'queued' }, 'Not dispatched: runners unprotected', refusal);
  }
  return false;
}
