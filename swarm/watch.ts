// Deadlines for the one-machine swarm: every wait on a child, a runner or the App ends, and a
// swarm that stops making progress says what it waited for instead of sitting idle. A run of
// `npm run swarm` (and its test in CI) ends with a clear error, never silently.
import { viewOf } from '../app/ledger-view.js';
import type { LedgerEntry } from '../ledger/index.js';
import type { FakeGitHub, WorkflowRun } from '../sim/github/fake.js';

export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

/** `p`, or a DeadlineError naming `what` once `ms` have passed (`p` itself is not cancelled). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} did not finish within ${fmtSeconds(ms / 1000)}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export const fmtSeconds = (s: number) => (s >= 120 ? `${Math.round(s / 60)} min` : s >= 10 ? `${Math.round(s)} s` : `${Number(s.toPrecision(2))} s`);

/** What the swarm is waiting for: enough to see why nothing moves, one fact a line. */
export function describeWait(w: {
  gh: FakeGitHub;
  entries: LedgerEntry[];
  /** runner name -> owner */
  owners: Record<string, string>;
  running: { run: WorkflowRun; owner: string; since: number } | null;
  agentsBusy: string[];
  failedDeliveries: number;
  refusedOwners: Map<string, string>;
  now: number;
}): string[] {
  const { gh } = w;
  const lines: string[] = [];
  const ownerOf = (name: string) => w.owners[name] ?? name;
  if (w.running) {
    const i = w.running.run.inputs;
    lines.push(`a job is running: ${w.running.owner}'s ${i.role} run of ${i.pr ? `PR #${i.pr}` : 'main'} @ ${i.sha.slice(0, 7)}, for ${fmtSeconds((w.now - w.running.since) / 1000)}`);
  }
  const online = gh.runners.filter((r) => r.status === 'online');
  const onlineText = online.length ? online.map((r) => `${ownerOf(r.name)}${r.busy ? ' (busy)' : ''} [${r.labels.join(', ')}]`).join('; ') : 'none';
  for (const run of gh.workflowRuns.values()) {
    if (run.workflow !== 'experiment.yml' || (run.status !== 'queued' && run.status !== 'pending')) continue;
    const i = run.inputs;
    const fit = online.filter((r) => run.runsOn.every((l) => r.labels.some((x) => x.toLowerCase() === l.toLowerCase())));
    lines.push(
      `run ${run.id} (${i.role} of ${i.pr ? `PR #${i.pr}` : 'main'} @ ${i.sha.slice(0, 7)}) is ${run.status}, runs-on [${run.runsOn.join(', ')}]: ` +
        (fit.length ? `runners that fit: ${fit.map((r) => ownerOf(r.name)).join(', ')}` : `no online runner has those labels (online: ${onlineText})`),
    );
  }
  if (!online.length) lines.push('no runner is online');
  for (const [login, why] of w.refusedOwners) lines.push(`owner ${login} has no runner: ${why}`);
  const v = viewOf(w.entries);
  for (const p of gh.pulls.values()) {
    if (p.state !== 'open' || p.merged || p.labels.some((l) => /^experiment:(merged|discarded|invalid)$/.test(l))) continue;
    const q = v.queue.get(p.number);
    const open = v.open.filter((j) => j.pr === p.number);
    let what = `PR #${p.number} "${p.title}" is open [${p.labels.join(', ') || 'no label'}]`;
    if (q?.waiting_for) {
      const { hardware_class: cls, sha } = q.waiting_for;
      const runs = v.baselineRuns.filter((b) => b.hardware_class === cls && b.sha === sha);
      const byOwner = new Map<string, number[]>();
      for (const b of runs) byOwner.set(b.owner ?? '?', [...(byOwner.get(b.owner ?? '?') ?? []), b.val_bpb]);
      const openBaselines = v.open.filter((j) => j.role === 'baseline' && j.sha === sha && j.hardware_class === cls).length;
      what +=
        `, waiting for a baseline of ${sha.slice(0, 7)} on ${cls}: ${runs.length} baseline runs recorded` +
        (runs.length ? ` (${[...byOwner].map(([o, xs]) => `${o}: ${xs.map((x) => x.toFixed(3)).join(', ')}`).join('; ')})` : '') +
        `, ${openBaselines} dispatched without a result`;
    } else if (q) what += ', queued for a runner';
    if (open.length) what += `; jobs without a result: ${open.map((j) => `${j.role} attempt ${j.attempt}`).join(', ')}`;
    if (!q && !open.length) what += '; no queue entry and no job without a result in the ledger';
    lines.push(what);
  }
  if (w.agentsBusy.length) lines.push(`agents at work: ${w.agentsBusy.join(', ')}`);
  if (gh.outbox.length) lines.push(`${gh.outbox.length} webhook deliveries not yet handled`);
  if (w.failedDeliveries) lines.push(`${w.failedDeliveries} webhook deliveries failed and wait for redelivery at the next tick`);
  if (!lines.length) lines.push('nothing is running, queued or open');
  return lines;
}
