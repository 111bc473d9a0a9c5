// What a bound result means under the trust policy: the outcome of app/policy/outcome.ts, with
// a result about to be discarded sent to another owner first when the replication policy says
// so, a verify run judged against the claim's other runs, and the ledger entries that follow
// (the policy in force, the verification, faults, reversals and bans). Pure over the ledger view.
import { appendEntries, digestCommitment, runsAgree, type NewEntry } from '../../ledger/index.js';
import { viewOf, type Dispatched, type LedgerView } from '../ledger-view.js';
import type { Baseline } from '../policy/baseline.js';
import { classSigmaOf, judgedBaseline } from '../baselines.js';
import { agreeTolerance, outcome, outcomeSettings, type Claim, type Outcome } from '../policy/outcome.js';
import { faultEntries, policyEntry, replayAbandoned, replicateDiscard, runsOf, trustPolicyOf } from '../policy/replication.js';
import type { ResultCheck } from '../policy/result-check.js';
import { judgeReplay, replaySpecFor } from '../policy/replays.js';
import { refusal, refusedBy } from '../policy/refusals.js';
import { claimToContinue, isSideReplay, judgeSideReplay, mergeHeldBy } from '../policy/side-replays.js';
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
  x: { job: Dispatched; checked: ResultCheck; runnerOwner: string | null; author: string | null; resultTime: string; runHeadSha: string; digest?: string | null; /** the intake's entries (the result) recorded before the judged ones */ recorded?: NewEntry[] },
): Judged {
  const { job, checked, runnerOwner } = x;
  const r = checked.result;
  const c = s.cfg.config;
  const policy = trustPolicyOf(c);
  const news: NewEntry[] = [];
  const baseline: Baseline | null = r ? judgedBaseline(view, r.hardware_class, x.runHeadSha) : null;
  // owners who handed this job back with nothing to score (app/policy/refusals.ts)
  const bounced = runnerOwner && refusal(checked) ? refusedBy(view, job, runnerOwner) : null;
  // a replay of a baseline run or a fresh-seed verify run settles that run only (app/policy/side-replays.ts)
  if (job.role === 'verify' && isSideReplay(view, job)) {
    const pe = policyEntry(view.state, policy);
    const j = judgeSideReplay(view, { job, checked, runnerOwner, author: x.author, digest: x.digest ?? null }, { keys: s.seal, policy });
    const before = pe ? [pe, ...j.news] : j.news;
    // a replay that settled a verify run (a verdict, or its last attempt: given up), whose claim may
    // have waited for it to merge: the claim's runs are judged again
    const claimId = claimToContinue(view, job);
    const after = claimId ? viewOf([...view.entries, ...appendEntries(view.entries, [...(x.recorded ?? []), ...j.news])]) : null;
    if (claimId && after && (after.state.trust.replays.has(job.verifies!) || replayAbandoned(after.state, job.verifies!))) {
      const next = continueClaim(s, after, claimId, { author: x.author, baseline });
      return { out: next.out, baseline, news: [...before, ...next.news], replay: next.replay };
    }
    return { out: { kind: 'side_replay', reason: j.reason, baseline: j.baseline, dropped: j.dropped }, baseline, news: before, replay: null };
  }
  // a replay is judged against the run it replays (app/policy/replays.ts), never as a sample of the claim
  if (job.role === 'verify' && job.verifies && job.replay) {
    const pe = policyEntry(view.state, policy);
    const j = judgeReplay(view, { job, checked, runnerOwner, author: x.author, digest: x.digest ?? null, refused: bounced ?? [] }, { keys: s.seal, settings: outcomeSettings(c), policy, baseline, classSigma: r ? classSigmaOf(view, r.hardware_class) : null });
    return { out: j.out, baseline, news: pe ? [pe, ...j.news] : j.news, replay: j.replay };
  }
  const runs = job.role === 'verify' && job.verifies ? runsOf(view.state, view.jobs, job.verifies) : null;
  const claim: Claim | null = runs?.claim ? { job_id: runs.claim.job_id, val_bpb: runs.claim.val_bpb, hardware_class: runs.cls!, runner_owner: runs.claim.owner } : null;
  const settings = outcomeSettings(c);
  const classSigma = r ? classSigmaOf(view, r.hardware_class) : null;
  const tolerance = agreeTolerance(settings, classSigma ?? (baseline ? { sigma: baseline.sigma, df: baseline.n - 1 } : null));
  let out = outcome(
    // each owner's first refusal of a job (a give-back, an unreadable result) does not use up one of its attempts
    { role: job.role, validated: checked.validated, reason: checked.reason, result: r, attempt: job.attempt - (bounced?.length ?? 0), runnerOwner, baseline, classSigma, claim, replicas: runs?.replicas ?? [], job_id: job.job_id, author: x.author },
    settings,
  );
  // the next attempt avoids every owner that refused this job, not only the last one (and a claim's owner and author, who cannot verify it)
  if (out.kind === 'retry' && bounced) out = { ...out, elsewhere: runnerOwner!, avoid: [...bounced, ...(claim ? [claim.runner_owner, x.author].filter((o): o is string => !!o) : [])] };
  let replay: ReplaySpec | null = null;
  if (claim && r && checked.validated && runnerOwner) {
    const current = { job_id: job.job_id, role: job.role, validated: true, runner_owner: runnerOwner, digest_commitment: x.digest ? digestCommitment(x.digest, job.job_id) : undefined, result: r };
    ({ out, replay } = claimRules(view, out, claim, current, x.resultTime, x.author));
  }
  // A candidate result about to be discarded (no improvement, or a failed run) is re-run by
  // another owner first unless its owner is trusted and the spot check passed it over: replayed
  // (the same seeds and schedule) when it sealed a digest, else re-run with fresh seeds.
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

/**
 * What a claim's runs decide, under two rules besides outcome(): a claim whose owner was banned
 * since never merges, and a merge waits for the replay of each run it rests on that must be
 * replayed first (an owner on probation's, or one the spot check drew: app/policy/side-replays.ts):
 * the next job replays that run.
 */
function claimRules(view: LedgerView, out: Outcome, claim: Claim, current: Parameters<typeof mergeHeldBy>[2], time: string, author: string | null): { out: Outcome; replay: ReplaySpec | null } {
  // a claim whose owner was banned since it was recorded never merges (its run cannot count)
  if (claim.runner_owner && view.state.trust.banned(claim.runner_owner) && (out.kind === 'merge' || out.kind === 'verify_again')) {
    return { out: { kind: 'refuted', reason: `the claim's runner owner ${claim.runner_owner} has been banned since; its run cannot count`, claim }, replay: null };
  }
  const held = out.kind === 'merge' ? mergeHeldBy(view, out.job_ids ?? [], current, time, { owner: claim.runner_owner, author }) : null;
  if (held?.replay) return { out: { kind: 'verify_again', reason: held.reason, claim, exclude_owners: held.exclude, replays: held.job_id }, replay: held.replay };
  if (held) return { out: { kind: 'verify_again', reason: held.reason, claim, exclude_owners: [...held.exclude, ...(claim.runner_owner ? [claim.runner_owner] : []), ...(author ? [author] : [])] }, replay: null };
  return { out, replay: null };
}

/**
 * A claim whose merge waited for the replay of one of its verify runs, judged again once that
 * replay settled (`view`: with its verdict): its latest counted run is judged against the others
 * (an outvoted run no longer counts: runsOf), with the faults that decision brings; no run left
 * asks for another owner's fresh-seed run.
 */
function continueClaim(s: Session, view: LedgerView, claimId: string, x: { author: string | null; baseline: Baseline | null }): { out: Outcome; news: NewEntry[]; replay: ReplaySpec | null } {
  const c = s.cfg.config;
  const policy = trustPolicyOf(c);
  const runs = runsOf(view.state, view.jobs, claimId);
  if (!runs.claim) return { out: { kind: 'give_up', reason: 'a claim that is not in the ledger' }, news: [], replay: null };
  const claim: Claim = { job_id: runs.claim.job_id, val_bpb: runs.claim.val_bpb, hardware_class: runs.cls!, runner_owner: runs.claim.owner };
  const last = runs.replicas.at(-1);
  const rec = last ? view.state.results.get(last.job_id) : undefined;
  if (!last || !rec?.data.result) {
    const ran = [...view.state.results.values()].filter((e) => view.jobs.get(e.data.job_id)?.verifies === claimId && e.data.runner_owner).map((e) => e.data.runner_owner as string);
    const exclude = [...new Set([claim.runner_owner, ...ran, ...(x.author ? [x.author] : [])].filter((o): o is string => !!o))];
    return { out: { kind: 'verify_again', reason: 'the verify runs of this claim were outvoted by their replays; another owner runs it', claim, exclude_owners: exclude }, news: [], replay: null };
  }
  const settings = outcomeSettings(c);
  const classSigma = classSigmaOf(view, runs.cls!);
  const tolerance = agreeTolerance(settings, classSigma ?? (x.baseline ? { sigma: x.baseline.sigma, df: x.baseline.n - 1 } : null));
  const first = outcome(
    { role: 'verify', validated: true, reason: null, result: rec.data.result, attempt: view.jobs.get(last.job_id)?.attempt ?? 1, runnerOwner: last.owner, baseline: x.baseline, classSigma, claim, replicas: runs.replicas.slice(0, -1), job_id: last.job_id, author: x.author },
    settings,
  );
  const { out, replay } = claimRules(view, first, claim, rec.data, rec.time, x.author);
  const news: NewEntry[] = [];
  const faults = 'faults' in out ? out.faults : undefined;
  const wrong = faults?.wrong.filter((w) => !view.state.trust.faulted.has(w.job_id)) ?? [];
  if (faults && wrong.length) news.push(...faultEntries(view.state, policy, claim.job_id, wrong, faults.group, `outvoted on job ${claim.job_id} by ${faults.group.map((g) => g.owner).join(' and ')}`, tolerance));
  return { out, news, replay };
}

/** Whether the verify run was counted as a replica (not refused for its owner or class). */
function counted(out: Outcome): boolean {
  if (out.kind === 'verify_again') return !out.uncounted;
  return out.kind === 'merge' || out.kind === 'refuted' || out.kind === 'discard';
}

