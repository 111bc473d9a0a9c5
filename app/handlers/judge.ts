// What a bound result means under the trust policy: the outcome of app/policy/outcome.ts, with
// a result about to be discarded sent to another owner first when the replication policy says
// so, a verify run judged against the claim's other runs, and the ledger entries that follow
// (the policy in force, the verification, faults, reversals and bans). Pure over the ledger view.
import { runsAgree, type NewEntry } from '../../ledger/index.js';
import { classAt, type Dispatched, type LedgerView } from '../ledger-view.js';
import type { Baseline } from '../policy/baseline.js';
import { classSigmaOf } from '../baselines.js';
import { agreeTolerance, outcome, outcomeSettings, type Claim, type Outcome } from '../policy/outcome.js';
import { faultEntries, policyEntry, replicateDiscard, runsOf, trustPolicyOf } from '../policy/replication.js';
import type { ResultCheck } from '../policy/result-check.js';
import { judgeReplay, replaySpecFor } from '../policy/replays.js';
import type { ReplaySpec } from '../dispatch.js';
import type { Session } from '../session.js';

export interface Judged {
  out: Outcome;
  baseline: Baseline | null;
  /** entries to record with the result, after it */
  news: NewEntry[];
  /** the replay a verify job the outcome asks for repeats (docs/trust.md, "Replays"), or null for a fresh-seed run */
  replay: ReplaySpec | null;
}

export function judge(
  s: Session,
  view: LedgerView,
  x: { job: Dispatched; checked: ResultCheck; runnerOwner: string | null; author: string | null; resultTime: string; runHeadSha: string; digest?: string | null },
): Judged {
  const { job, checked, runnerOwner } = x;
  const r = checked.result;
  const c = s.cfg.config;
  const policy = trustPolicyOf(c);
  const news: NewEntry[] = [];
  const bl = r ? view.baselines.get(classAt(r.hardware_class, x.runHeadSha)) : undefined;
  const baseline: Baseline | null = bl ? { hardware_class: bl.hardware_class, sha: bl.sha, mean: bl.mean, sigma: bl.sigma, n: bl.n, tokens_per_second: bl.tokens_per_second } : null;
  // a replay is judged against the run it replays (app/policy/replays.ts), never as a sample of the claim
  if (job.role === 'verify' && job.verifies && job.replay) {
    const pe = policyEntry(view.state, policy);
    const j = judgeReplay(view, { job, checked, runnerOwner, author: x.author, digest: x.digest ?? null }, { keys: s.seal, settings: outcomeSettings(c), policy, baseline, classSigma: r ? classSigmaOf(view, r.hardware_class) : null });
    return { out: j.out, baseline, news: pe ? [pe, ...j.news] : j.news, replay: j.replay };
  }
  const runs = job.role === 'verify' && job.verifies ? runsOf(view.state, view.jobs, job.verifies) : null;
  const claim: Claim | null = runs?.claim ? { job_id: runs.claim.job_id, val_bpb: runs.claim.val_bpb, hardware_class: runs.cls!, runner_owner: runs.claim.owner } : null;
  const settings = outcomeSettings(c);
  const classSigma = r ? classSigmaOf(view, r.hardware_class) : null;
  const tolerance = agreeTolerance(settings, classSigma ?? (baseline ? { sigma: baseline.sigma, df: baseline.n - 1 } : null));
  let out = outcome(
    { role: job.role, validated: checked.validated, reason: checked.reason, result: r, attempt: job.attempt, runnerOwner, baseline, classSigma, claim, replicas: runs?.replicas ?? [], job_id: job.job_id, author: x.author },
    settings,
  );
  // a claim whose owner was banned since it was recorded never merges (its run cannot count)
  if (claim?.runner_owner && view.state.trust.banned(claim.runner_owner) && (out.kind === 'merge' || out.kind === 'verify_again')) {
    out = { kind: 'refuted', reason: `the claim's runner owner ${claim.runner_owner} has been banned since; its run cannot count`, claim };
  }
  // A candidate result about to be discarded (no improvement, or a failed run) is re-run by
  // another owner first unless its owner is trusted and the spot check passed it over: replayed
  // (the same seeds and schedule) when it sealed a digest, else re-run with fresh seeds.
  let replay: ReplaySpec | null = null;
  if (out.kind === 'discard' && job.role === 'candidate' && r) {
    const why = replicateDiscard(view.state, policy, runnerOwner, x.resultTime, job.job_id);
    if (why) {
      out = { kind: 'verify', threshold: out.threshold, delta: null, exclude_owners: [runnerOwner, x.author].filter((o): o is string => !!o), replicate: why };
      replay = checked.validated ? replaySpecFor(r, !!x.digest) : null;
    }
  }
  // A counted replica (another owner, the claim's class, not the author) records whether it agreed.
  if (claim && r && checked.validated && runnerOwner && counted(out)) {
    const mine = r.status === 'ok' ? r.val_bpb : null;
    news.push({
      type: 'verification',
      data: { job_id: claim.job_id, verify_job_id: job.job_id, agreed: runsAgree(claim.val_bpb, mine, tolerance), claim_bpb: claim.val_bpb ?? -1, verify_bpb: mine ?? -1, tolerance },
    });
  }
  const faults = 'faults' in out ? out.faults : undefined;
  if (faults?.wrong.length && claim) news.push(...faultEntries(view.state, policy, claim.job_id, faults.wrong, faults.group, `outvoted on job ${claim.job_id} by ${faults.group.map((g) => g.owner).join(' and ')}`, tolerance));
  const pe = policyEntry(view.state, policy);
  return { out, baseline, news: pe ? [pe, ...news] : news, replay };
}

/** Whether the verify run was counted as a replica (not refused for its owner or class). */
function counted(out: Outcome): boolean {
  if (out.kind === 'verify_again') return !out.uncounted;
  return out.kind === 'merge' || out.kind === 'refuted' || out.kind === 'discard';
}

