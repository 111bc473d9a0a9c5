// PRs waiting for a baseline of the default branch on a hardware class: once it is recorded,
// a score the PR already holds on that class and commit is judged against it (discarded, or
// sent to verification) instead of training again. Run from the scheduler, so it happens on the
// next event or tick whoever recorded the baseline, and once: each decision is appended only
// while the chain really appended to still shows the PR waiting.
import type { LedgerEntry, NewEntry } from '../ledger/index.js';
import { dispatchJobs, rerun } from './dispatch.js';
import { createCheck, updateCheck } from './github/checks.js';
import { moveState } from './github/labels.js';
import { writeSticky } from './github/sticky-comment.js';
import { baselineAwaiting, baselineJobsFor, classSigmaOf, judgedBaseline } from './baselines.js';
import { classAt, queuedSince, viewOf, type LedgerView, type Queued } from './ledger-view.js';
import { outdatedAgainst, setAsideOutdated } from './outdated.js';
import { scoreSummary, stateComment } from './messages.js';
import type { Baseline } from './policy/baseline.js';
import { outcome, outcomeSettings, type Outcome } from './policy/outcome.js';
import { OWNER_LABEL_PREFIX, pickVerifierLabel, runnerOwner, verifierTarget, type ApiRunner } from './policy/runners.js';
import { listRunners } from './github/runners.js';
import { replicateDiscard, runsOf, trustPolicyOf } from './policy/replication.js';
import { noVerifierReason, replaySpecFor } from './policy/replays.js';
import { runStanding, sideReplaysDue } from './policy/side-replays.js';
import { withGrants } from './record.js';
import { appendBuilt, type Session } from './session.js';

/**
 * Where a verify run of `cls` goes, avoiding the owners in `exclude`: an owner label
 * (policy/runners.ts verifierTarget: an online runner's, else an offline one's, whose job waits for
 * it); the class label while the ledger has a runner of another owner registered on the class that
 * GitHub does not list now (an ephemeral runner is off the list between jobs); or null when the
 * ledger has none at all: no other owner can ever take it.
 */
export async function verifierFor(s: Session, cls: string, exclude: string[], view: LedgerView): Promise<string | null> {
  const runners = await listRunners(s.octokit, s.repo);
  // an owner banned since its runner registered never verifies: its run would be refused at intake
  // and the job would wait out its deadline (seen at 40% adversarial: 30 minutes per attempt)
  const out = [...exclude, ...bannedOwners(view)];
  const target = verifierTarget(runners, cls, out);
  if (target) return target;
  return pickVerifierLabel(registeredRunners(view, cls), cls, out) ? cls : null;
}

const bannedOwners = (view: LedgerView) => [...view.state.trust.owners.values()].filter((o) => o.banned).map((o) => o.login);

/** The runners the ledger has registered on `cls`, as GitHub would list them online and idle. */
function registeredRunners(view: LedgerView, cls: string): ApiRunner[] {
  return [...view.registry.values()].filter((r) => r.hardware_class === cls).map((r) => ({ name: r.runner_name, status: 'online', busy: false, labels: [{ name: cls }, { name: `${OWNER_LABEL_PREFIX}${r.owner}` }] }));
}

/**
 * What becomes of a run whose verify run no owner outside `exclude` may take (verifierFor is null),
 * or null to send it to the class label as before. A replay's exclusions are the owners the intake
 * refuses (policy/replays.ts notIndependent): its dispute ends with the discard standing (`replay`;
 * a merge held for the replay of one of its verify runs is judged as the claim it is). A claim's
 * may be wider (the replayers of an outvoted run are avoided, not refused): while an owner the
 * intake accepts (not the claim's, the author's, nor one of its runs') has a runner on the class,
 * the class label; else the claim runs on another class with a baseline of `sha` where runners of
 * at least two owners besides the author (one online; the most such owners first) can run and
 * verify it, or is discarded, saying why (policy/replays.ts noVerifierReason).
 */
export async function noVerifier(
  s: Session,
  view: LedgerView,
  x: { cls: string; sha: string; exclude: string[]; replay: boolean; claimId: string; /** the run's owner and the PR's author */ owners: (string | null)[]; val_bpb: number | null },
): Promise<Outcome | null> {
  const author = x.owners[1] ?? null;
  if (!x.replay) {
    const runs = runsOf(view.state, view.jobs, x.claimId);
    const refused = [...x.owners, runs.claim?.owner ?? null, ...runs.replicas.map((r) => r.owner)].filter((o): o is string => !!o);
    if ((await verifierFor(s, x.cls, refused, view)) !== null) return null;
    const out = new Set([...(author ? [author] : []), ...bannedOwners(view)].map((o) => o.toLowerCase()));
    const owners = (cls: string) => new Set(registeredRunners(view, cls).map(runnerOwner).filter((o): o is string => !!o && !out.has(o.toLowerCase())));
    const classes = [...view.baselines.values()].filter((b) => b.sha === x.sha && b.hardware_class !== x.cls).map((b) => b.hardware_class);
    // the class with the most such owners (a run on probation is replayed by a third before it counts)
    const other = classes.sort().filter((cls) => owners(cls).size >= 2).sort((a, b) => owners(b).size - owners(a).size)[0];
    if (other) return { kind: 'run_elsewhere', hardware_class: other, reason: `No owner but ${[...new Set(refused)].sort().join(' and ')} has a runner on ${x.cls} to verify the claim, so the PR runs again on ${other}, where runners of other owners can` };
    return { kind: 'discard', reason: noVerifierReason(x.cls, refused, false, s.cfg.config.trust.outvote_quorum), val_bpb: x.val_bpb, threshold: null };
  }
  return { kind: 'discard', reason: noVerifierReason(x.cls, x.exclude, true, s.cfg.config.trust.outvote_quorum), val_bpb: x.val_bpb, threshold: null };
}

/** verifierFor, or the class itself when no other owner has a runner on it. */
export async function verifierLabel(s: Session, cls: string, exclude: string[], view: LedgerView): Promise<string> {
  return (await verifierFor(s, cls, exclude, view)) ?? cls;
}

/**
 * PRs that waited for this baseline already hold a valid score on its class and commit: that
 * score is judged now (discarded, or sent to verification) instead of training again. A PR
 * without one, or whose score would merge at once (quorum 0), stays in the queue and runs again.
 */
export async function judgeWaiting(s: Session, view: LedgerView, baseline: Baseline): Promise<LedgerView> {
  const c = s.cfg.config;
  for (const q of [...view.queue.values()]) {
    const w = q.waiting_for;
    if (!w || w.hardware_class !== baseline.hardware_class || w.sha !== baseline.sha) continue;
    // the PR's file against a baseline of code it lacks judges nothing: its branch is updated (app/outdated.ts)
    const found = await outdatedAgainst(s, q.sha, w.sha);
    if (found) {
      const still = (v: LedgerView) => (v.queue.get(q.pr)?.sha === q.sha && v.queue.get(q.pr)?.time === q.time ? [] : null);
      view = await setAsideOutdated(s, view, { pr: q.pr, sha: q.sha, since: queuedSince(q), check: q.check, comment: q.comment }, found, still);
      continue;
    }
    // The latest score of the commit on the class: a verify run that found no baseline on the
    // default branch it ran on is that score (judging the older claim again would run its verify twice).
    const scored = [...view.state.results.values()]
      .map((e) => e.data)
      .filter((r) => r.pr === q.pr && r.sha === q.sha && (r.role === 'candidate' || r.role === 'verify') && r.validated && r.result?.status === 'ok' && r.result.val_bpb !== null && r.result.hardware_class === w.hardware_class && !view.longRuns.has(r.job_id))
      .at(-1);
    const job = scored ? view.jobs.get(scored.job_id) : undefined;
    if (!scored?.result || !job) continue;
    const r = scored.result;
    let out = outcome(
      { role: 'candidate', validated: true, reason: null, result: r, attempt: job.attempt, runnerOwner: scored.runner_owner, baseline, classSigma: classSigmaOf(view, baseline.hardware_class), claim: null, replicas: [], author: q.author },
      outcomeSettings(c),
    );
    const recordedAt = view.state.results.get(scored.job_id)!.time;
    const replicate = out.kind === 'discard' ? replicateDiscard(view.state, trustPolicyOf(c), scored.runner_owner, recordedAt, scored.job_id) : null;
    if (out.kind === 'discard' && replicate) out = { kind: 'verify', threshold: out.threshold, delta: null, exclude_owners: [scored.runner_owner, q.author].filter((o): o is string => !!o), replicate };
    if (out.kind !== 'discard' && out.kind !== 'verify') continue;
    // once: a second process (or a redelivery) finds the PR no longer waiting and does nothing
    const stillWaiting = (entries: LedgerEntry[]) => {
      const now = entries.length === view.entries.length ? view : viewOf(entries);
      const e = now.queue.get(q.pr);
      return e?.sha === q.sha && e.waiting_for?.hardware_class === w.hardware_class && e.waiting_for.sha === w.sha ? now : null;
    };
    const summary = (verdict: string, t: number) => scoreSummary({ result: r, baseline, threshold: t, runnerName: scored.runner_name, runnerOwner: scored.runner_owner, runUrl: scored.run_url, verdict });
    const sticky = (title: string, lines: string[]) => writeSticky(s.octokit, s.repo, q.pr, stateComment(title, lines, s.cfg.notice), { knownId: q.comment });
    const check = async (state: Parameters<typeof updateCheck>[3], title: string, text: string) => {
      if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, state, title, text, scored.run_url);
      else await createCheck(s.octokit, s.repo, q.sha, state, title, text);
    };
    if (out.kind === 'discard') {
      const news: NewEntry[] = [{ type: 'experiment_discarded', data: { pr: q.pr, sha: q.sha, reason: out.reason, hardware_class: r.hardware_class, val_bpb: r.val_bpb } }];
      let skipped = false;
      await appendBuilt(s, view.entries, (entries) => {
        const now = stillWaiting(entries);
        skipped = now === null;
        return now ? withGrants(now, news) : [];
      });
      if (skipped) continue;
      view = viewOf(await s.ledger.read());
      await check({ conclusion: 'neutral' }, 'No improvement', summary(`Judged against the new baseline: discarded, ${out.reason}.`, out.threshold!));
      await sticky('No improvement', [`Judged against the new ${w.hardware_class} baseline: discarded, ${out.reason}.`, 'Change `trainer/train.ts` and push to try again.']);
      await moveState(s.octokit, s.repo, q.pr, 'discarded');
      if (c.close_on_discard && s.cfg.mayAct) await s.octokit.rest.pulls.update({ ...s.repo, pull_number: q.pr, state: 'closed' });
      continue;
    }
    const target = await verifierLabel(s, w.hardware_class, out.exclude_owners, view);
    // a result about to be discarded is replayed when it sealed a digest (docs/trust.md, "Replays"); a claim is verified with fresh seeds
    const replay = out.replicate ? replaySpecFor(r, !!scored.digest_commitment) : null;
    const verifyJob = rerun(job, { role: 'verify', hardware_class: w.hardware_class, runner_label: target, verifies: job.job_id, attempt: 1, check: q.check, comment: q.comment, replay });
    const dequeue: NewEntry = { type: 'experiment_dequeued', data: { pr: q.pr, sha: q.sha, reason: `judged against the new ${w.hardware_class} baseline: ${out.replicate ? 're-run by another owner before it is discarded' : 'improvement claimed, verifying'}` } };
    if (!(await dispatchJobs(s, [verifyJob], (entries) => (stillWaiting(entries) ? [dequeue] : null), {}, view.entries))) continue;
    view = viewOf(await s.ledger.read());
    const title = out.replicate ? 'Checking the result on another runner' : 'Improvement claimed; verifying';
    await check({ status: 'in_progress' }, title, summary(out.replicate ? `Judged against the new baseline: no improvement; before it counts, a runner of another owner (\`${target}\`) re-runs it: ${out.replicate}.` : `Judged against the new baseline: claims an improvement; a runner of another owner (\`${target}\`) is re-running it.`, out.threshold ?? 0));
    await sticky(title, [out.replicate ? `No improvement against the new ${w.hardware_class} baseline; a runner of another owner re-runs it before the PR is discarded (${out.replicate}).` : `val_bpb ${r.val_bpb!.toFixed(4)} beats the new ${w.hardware_class} baseline; verifying on a runner of another owner before merging.`]);
    await moveState(s.octokit, s.repo, q.pr, 'verifying');
  }
  return view;
}


/**
 * Every queued PR whose awaited baseline is recorded now is judged against it (judgeWaiting). The
 * scheduler calls this on each event and tick, so a baseline recorded by a handler that failed
 * before judging (a 5xx, a restart), or by another process, does not send the PR to train again.
 */
export async function judgeReady(s: Session, view: LedgerView): Promise<LedgerView> {
  const judged = new Set<string>();
  for (const q of [...view.queue.values()]) {
    const w = q.waiting_for;
    const key = w ? classAt(w.hardware_class, w.sha) : '';
    const b = w ? view.baselines.get(key) : undefined;
    if (!b || judged.has(key)) continue;
    judged.add(key);
    view = await judgeWaiting(s, view, judgedBaseline(view, b.hardware_class, b.sha)!);
  }
  return view;
}

/**
 * Queue entries waiting for a baseline that nothing will produce any more (no baseline, no
 * baseline run open: given up, or a handler failed before dispatching the next): the runs are
 * dispatched again, one more when the owners so far disagree (up to twice `baseline_runs`, as
 * the handler does), or, the default branch having moved, the PR runs on the new one. The wait's
 * deadline: when even twice the runs brought no agreeing baseline, the PRs waiting for it run on
 * another class that has a baseline of the commit (at the swarm's cost: they paid), or, with none
 * online, are given up with a final check, not left waiting for ever.
 */
export async function repairWaiting(s: Session, view: LedgerView, each: (what: string, repair: () => Promise<void>) => Promise<void>): Promise<LedgerView> {
  const noRun = (v: LedgerView, w: { hardware_class: string; sha: string }) =>
    !v.baselines.has(classAt(w.hardware_class, w.sha)) &&
    !v.open.some((j) => j.role === 'baseline' && !v.longRuns.has(j.job_id) && j.hardware_class === w.hardware_class && j.sha === w.sha);
  // a run awaiting its replay holds the wait only while that replay is in flight or can be sent:
  // with no other eligible owner online (app/side-replays.ts) it would wait for ever
  let runners: ApiRunner[] | null = null;
  if ([...view.queue.values()].some((q) => q.waiting_for && noRun(view, q.waiting_for) && baselineAwaiting(view, q.waiting_for.hardware_class, q.waiting_for.sha))) {
    runners = await listRunners(s.octokit, s.repo);
  }
  const nothingComing = (v: LedgerView, w: { hardware_class: string; sha: string }) => noRun(v, w) && !(baselineAwaiting(v, w.hardware_class, w.sha) && replayComing(v, w, runners ?? [], s.seal));
  const stuck = [...view.queue.values()].filter((q) => q.waiting_for && nothingComing(view, q.waiting_for));
  if (!stuck.length) return view;
  const { data: head } = await s.octokit.rest.git.getRef({ ...s.repo, ref: `heads/${s.defaultBranch}` });
  const n = s.cfg.config;
  for (const q of stuck) {
    const w = q.waiting_for!;
    const still = (entries: LedgerEntry[]) => {
      const v = entries.length === view.entries.length ? view : viewOf(entries);
      const now = v.queue.get(q.pr);
      return now?.sha === q.sha && now.waiting_for?.sha === w.sha && now.waiting_for.hardware_class === w.hardware_class && nothingComing(v, w) ? v : null;
    };
    if (w.sha !== head.object.sha) {
      // the commit it waited on is no longer the default branch: test it again on the new one
      await each(`re-queueing PR #${q.pr}`, async () => {
        await appendBuilt(s, view.entries, (entries) => (still(entries) ? [{ type: 'experiment_queued', data: { pr: q.pr, sha: q.sha, author: q.author, title: q.title, check: q.check, comment: q.comment, waiting_for: null } }] : []));
      });
    } else {
      const runs = await baselineJobsFor(s, view, w.hardware_class, w.sha, n);
      const more = runs.length ? runs : await baselineJobsFor(s, view, w.hardware_class, w.sha, n, true);
      let capped = false;
      if (more.length) {
        await each(`baseline runs for PR #${q.pr}`, async () => {
          // [] (not null): the commit's baseline runs reached their cap (app/dispatch.ts), which
          // counts runs of owners banned since; nothing more will come
          capped = (await dispatchJobs(s, more, [], {}, view.entries))?.length === 0;
        });
      }
      if (capped) view = viewOf(await s.ledger.read());
      if (!more.length || capped) {
        // before giving up: another class with a baseline of this commit and a runner online runs the PR
        runners ??= await listRunners(s.octokit, s.repo);
        const other = otherClass(view, w, runners);
        if (other) {
          await each(`re-queueing PR #${q.pr} on ${other}`, async () => {
            await appendBuilt(s, view.entries, (entries) => (still(entries) ? [{ type: 'experiment_queued', data: { pr: q.pr, sha: q.sha, author: q.author, title: q.title, check: q.check, comment: q.comment, waiting_for: null, on_class: other } }] : []));
          });
        } else await each(`giving up the wait of PR #${q.pr}`, () => giveUpWait(s, view, q, still));
      }
    }
    view = viewOf(await s.ledger.read());
  }
  return view;
}

/**
 * A class other than `w`'s with a baseline of `w.sha` and a runner of an owner not banned online:
 * where a PR whose own class could not establish a baseline runs instead of being given up (its
 * result there is judged at once against that baseline). Null when there is none.
 */
function otherClass(view: LedgerView, w: { hardware_class: string; sha: string }, runners: ApiRunner[]): string | null {
  const banned = bannedOwners(view);
  const classes = [...view.baselines.values()].filter((b) => b.sha === w.sha && b.hardware_class !== w.hardware_class).map((b) => b.hardware_class);
  return classes.sort().find((cls) => pickVerifierLabel(runners, cls, banned) !== null) ?? null;
}

/**
 * Whether a baseline run of `w` awaiting its replay will get one: a replay of it is in flight, or
 * it is due now and an owner who may replay it has a runner of the class online.
 */
function replayComing(view: LedgerView, w: { hardware_class: string; sha: string }, runners: ApiRunner[], keys: Session['seal']): boolean {
  const awaiting = view.baselineRuns.filter((b) => b.hardware_class === w.hardware_class && b.sha === w.sha && !b.reused && runStanding(view, b.job_id) === 'awaiting').map((b) => b.job_id);
  if (view.open.some((j) => j.replay && j.verifies && awaiting.includes(j.verifies))) return true;
  const banned = bannedOwners(view);
  return sideReplaysDue(view, keys).some((d) => awaiting.includes(d.original) && pickVerifierLabel(runners, d.hardware_class, [...d.exclude, ...banned]) !== null);
}

async function giveUpWait(s: Session, view: LedgerView, q: Queued, still: (entries: LedgerEntry[]) => LedgerView | null): Promise<void> {
  const w = q.waiting_for!;
  const runs = view.baselineRuns.filter((b) => b.hardware_class === w.hardware_class && b.sha === w.sha).length;
  const reason = `no baseline of ${w.sha.slice(0, 7)} on ${w.hardware_class} could be established: its ${runs} runs did not agree across owners, or no other owner online could replay them`;
  let skipped = false;
  await appendBuilt(s, view.entries, (entries) => {
    const v = still(entries);
    skipped = v === null;
    return v ? withGrants(v, [{ type: 'experiment_discarded', data: { pr: q.pr, sha: q.sha, reason, hardware_class: w.hardware_class, val_bpb: null } }]) : [];
  });
  if (skipped) return;
  const text = `Given up: ${reason}. Push again to retry.`;
  if (q.check !== null) await updateCheck(s.octokit, s.repo, q.check, { conclusion: 'neutral' }, 'No baseline', text);
  else await createCheck(s.octokit, s.repo, q.sha, { conclusion: 'neutral' }, 'No baseline', text);
  await writeSticky(s.octokit, s.repo, q.pr, stateComment('No baseline', [text], s.cfg.notice), { knownId: q.comment });
  await moveState(s.octokit, s.repo, q.pr, 'discarded'); // last (see app/reconcile.ts)
}
