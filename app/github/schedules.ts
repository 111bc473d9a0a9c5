// The App's scheduled workflows kept running. GitHub disables the scheduled workflows of a public
// repository after 60 days without repository activity (docs: "Disabling and enabling a
// workflow"), and the whole workflow is disabled, its manual runs too; no event says so. tick.yml
// is the App's clock (the reconcile pass that finishes a merge GitHub answered with a 5xx, deadlines
// of jobs whose runner vanished when no other event comes) and witness.yml signs the ledger's head:
// a swarm that merged nothing for two months lost both without a word. On any event, the App lists
// the workflows' state (one call, at most once an hour per repository) and enables one
// GitHub disabled for inactivity (PUT .../enable, Actions: write). One an administrator disabled
// is left so, and the log says what stops with it. Never throws: a failed read is asked again next time.
import { status, type Octo, type RepoRef } from './octokit.js';

/** The App's scheduled workflows: its clock, and the ledger witness. */
export const SCHEDULED_WORKFLOWS = ['tick.yml', 'witness.yml'] as const;
const WHAT: Record<string, string> = {
  'tick.yml': "the App's clock (reconcile pass, deadlines when no other event arrives)",
  'witness.yml': "the ledger witness (signed ledger heads)",
};
const TTL_MS = 60 * 60_000;
const checked = new Map<string, number>();

export interface ScheduleCheck {
  workflow: string;
  /** GitHub's `state` of the workflow before */
  state: string;
  enabled: boolean;
  note: string | null;
}

/** Reads the App's scheduled workflows' state (one listing, at most once per TTL_MS per repository) and enables those GitHub disabled for inactivity. */
export async function keepSchedulesRunning(octokit: Octo, repo: RepoRef, now: number, log?: { info(m: string): void; warn(m: string): void }): Promise<ScheduleCheck[]> {
  const key = `${repo.owner}/${repo.repo}`.toLowerCase();
  const last = checked.get(key);
  if (last !== undefined && now - last < TTL_MS && now >= last) return [];
  let listed: { path?: unknown; state?: unknown }[];
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/workflows', { ...repo, per_page: 100 });
    listed = Array.isArray((data as { workflows?: unknown }).workflows) ? (data as { workflows: { path?: unknown; state?: unknown }[] }).workflows : [];
  } catch (e) {
    // not allowed to read them: nothing to do, ask next hour; anything else (a 5xx): ask at the next event
    if (status(e) === 403 || status(e) === 404) checked.set(key, now);
    return [];
  }
  let failed = false;
  const out: ScheduleCheck[] = [];
  for (const workflow of SCHEDULED_WORKFLOWS) {
    const w = listed.find((x) => x.path === `.github/workflows/${workflow}`);
    if (!w || typeof w.state !== 'string') continue;
    const c = await checkOne(octokit, repo, workflow, w.state);
    if (c === 'retry') {
      failed = true;
      continue;
    }
    out.push(c);
    if (c.note) (c.enabled ? log?.info : log?.warn)?.call(log, `${repo.owner}/${repo.repo}: ${c.note}`);
  }
  if (!failed) checked.set(key, now);
  return out;
}

async function checkOne(octokit: Octo, repo: RepoRef, workflow: string, state: string): Promise<ScheduleCheck | 'retry'> {
  if (state === 'disabled_inactivity') {
    try {
      await octokit.request('PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/enable', { ...repo, workflow_id: workflow });
    } catch (e) {
      if (status(e) === 404 || status(e) === 403) return { workflow, state, enabled: false, note: `${workflow} was disabled by GitHub for inactivity and the App may not enable it (HTTP ${status(e)}): ${WHAT[workflow]} stopped; enable it under Actions, or give the App Actions: write` };
      return 'retry';
    }
    return { workflow, state, enabled: true, note: `${workflow} was disabled by GitHub for inactivity (60 days without repository activity): enabled again, ${WHAT[workflow]}` };
  }
  if (state === 'disabled_manually') return { workflow, state, enabled: false, note: `${workflow} is disabled by an administrator: ${WHAT[workflow]} stays stopped until it is enabled under Actions` };
  return { workflow, state, enabled: false, note: null };
}

/** For tests and the simulator: forget when each repository was checked. */
export function forgetScheduleChecks(): void {
  checked.clear();
}
