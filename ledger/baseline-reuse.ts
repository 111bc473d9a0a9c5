// A merged claim's runs as the first samples of the new default branch's baseline (docs/trust.md
// 2a, "Reusing the merged claim's runs"). The merged PR's train.ts is the new default branch's
// train.ts, run under the same harness, so the runs its merge rests on are runs of the new
// default branch: the App counts them toward its baseline on their class and dispatches only the
// rest. The one rule of which runs may count, for the App (app/merge.ts, app/baselines.ts) and the
// audit (ledger/audit.ts) alike.
import type { LedgerState } from './credits.js';
import type { EntryDataOf } from './entries.js';

type Merged = EntryDataOf<'experiment_merged'>;
const lower = (x: string) => x.toLowerCase();

/**
 * Where the replay of run `jobId` stands: `none` (never replayed), `awaiting` (a replay was
 * dispatched and no verdict settles it: such a run does not count), `agreed` (its replays agreed
 * with it) or `refuted` (outvoted, or not replayable).
 */
export function replayStanding(s: LedgerState, jobId: string): 'none' | 'awaiting' | 'agreed' | 'refuted' {
  const v = s.trust.replays.get(jobId);
  if (v) {
    if (v.verdict === 'pending') return 'awaiting';
    return v.verdict === 'agreed' || (v.verdict === 'outvoted' && v.group.includes(jobId)) ? 'agreed' : 'refuted';
  }
  // a run the trust policy must have replayed (ledger/trust.ts replayDue), or one a replay was dispatched for
  if (s.trust.replayDue.has(jobId)) return 'awaiting';
  for (const d of s.dispatched.values()) if (d.verifies === jobId && d.replay) return 'awaiting';
  return 'none';
}

/**
 * Why run `jobId` may not be a sample of the baseline of merge `m`'s commit, or null when it may:
 * a validated, scored run of the merged PR commit that the merge rests on, on the merge's class,
 * run on the clock with fresh seeds (not a replay), by an owner who is neither the PR's author nor
 * banned, not outvoted, confirmed by another owner's run (under a trust policy), and not awaiting
 * or refuted by a replay.
 */
export function reuseProblem(s: LedgerState, m: Merged, jobId: string): string | null {
  if (!m.job_ids.includes(jobId)) return `job ${jobId} is not one of the runs the merge of PR #${m.pr} rests on`;
  const r = s.results.get(jobId)?.data;
  if (!r?.validated || !r.result || r.result.status !== 'ok' || r.result.val_bpb == null) return `job ${jobId} has no validated, scored result`;
  if (r.pr !== m.pr || r.sha !== m.sha) return `job ${jobId} is a run of PR #${r.pr} at ${r.sha}, not of the merged PR #${m.pr} at ${m.sha}`;
  if (r.result.hardware_class !== m.hardware_class) return `job ${jobId} ran on ${r.result.hardware_class}, not the merge's class ${m.hardware_class}`;
  if (!r.runner_owner) return `job ${jobId} ran on a runner with no owner`;
  if (s.trust.banned(r.runner_owner)) return `job ${jobId} is a run of ${r.runner_owner}, who is banned`;
  const job = s.dispatched.get(jobId);
  const author = job?.pr_author ?? r.author;
  if (author && lower(author) === lower(r.runner_owner)) return `job ${jobId} ran on a runner of ${r.runner_owner}, the PR's author`;
  if (job?.replay) return `job ${jobId} is a replay (the seeds of another run), not a fresh sample`;
  if (s.trust.faulted.has(jobId)) return `job ${jobId} was outvoted by other owners' runs`;
  if (s.trust.policy && !s.trust.checked.has(jobId)) return `job ${jobId} is not confirmed by another owner's run`;
  const replay = replayStanding(s, jobId);
  if (replay === 'awaiting') return `job ${jobId} awaits its replay`;
  if (replay === 'refuted') return `job ${jobId} was refuted by its replays`;
  return null;
}

/** Why the runs `jobIds` may not be samples of one baseline together, or null: one run per owner, one harness, budget and train.ts. */
export function sampleSetProblem(s: LedgerState, jobIds: string[]): string | null {
  const owners = new Set<string>();
  let first: { job: string; harness: string; version: string; budget: number; candidate: string } | null = null;
  for (const j of jobIds) {
    const r = s.results.get(j)?.data;
    if (!r?.result) return `job ${j} has no result`;
    if (r.role !== 'baseline') {
      const o = lower(r.runner_owner ?? '');
      if (owners.has(o)) return `job ${j} is a second run of ${r.runner_owner} (one run per owner of a merged claim counts)`;
      owners.add(o);
    }
    const x = { job: j, harness: r.result.harness_sha256, version: r.result.harness_version, budget: r.result.budget_seconds, candidate: r.result.candidate_sha256 };
    if (!first) first = x;
    else if (x.harness !== first.harness || x.version !== first.version) return `job ${j} ran harness ${x.version} (${x.harness.slice(0, 12)}), job ${first.job} harness ${first.version} (${first.harness.slice(0, 12)})`;
    else if (x.budget !== first.budget) return `job ${j} trained for ${x.budget} s, job ${first.job} for ${first.budget} s`;
    else if (x.candidate !== first.candidate) return `job ${j} ran train.ts ${x.candidate.slice(0, 12)}, job ${first.job} train.ts ${first.candidate.slice(0, 12)}`;
  }
  return null;
}

/** The runs of merge `m` that may be samples of its commit's baseline (reuseProblem), one per owner, in the merge's order. */
export function reusableRuns(s: LedgerState, m: Merged): string[] {
  const owners = new Set<string>();
  const out: string[] = [];
  for (const j of m.job_ids) {
    if (reuseProblem(s, m, j)) continue;
    const o = lower(s.results.get(j)!.data.runner_owner!);
    if (owners.has(o)) continue;
    owners.add(o);
    out.push(j);
  }
  return out;
}
