// The App's ledger view is folded incrementally and shared (app/ledger-view.ts). Proof that it
// decides nothing differently: after every append (the App's own, a chain it simulates, another
// process's read back, a fresh read of the whole chain) the view equals a fold of the whole chain
// by the code the App used before views were cached; views handed out earlier never change; the
// store still refuses a tampered or rewritten branch; and the simulator's figures are the same with
// the cache on and off.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { Octokit } from '@octokit/rest';
import { grantsDue, queueOf, setViewCache, viewOf, type Dispatched, type LedgerView } from '../../app/ledger-view.js';
import type { BaselineRun } from '../../app/policy/baseline.js';
import {
  appendEntries,
  entryLine,
  freeRunsLeft,
  FREE_TIER_REASON,
  GitHubLedgerStore,
  LedgerState,
  longRunIssue,
  longRunReason,
  parseLedgerText,
  TAIL_FILE,
  type EntryDataOf,
  type LedgerEntry,
  type NewEntry,
} from '../../ledger/index.js';
import { Swarm } from '../../sim/swarm.js';
import { expectRealGitHubCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { FakeGitRepo } from '../ledger/fake-git.js';
import { at, baseline, dispatched, recorded, sha40, spent } from '../ledger/fixtures.js';

/** The view as the App folded it before views were cached: the whole chain, twice over (the oracle). */
function reference(entries: LedgerEntry[]): Omit<LedgerView, 'entries'> & { entries: LedgerEntry[] } {
  const state = LedgerState.of(entries);
  const jobs = new Map<string, Dispatched>();
  const registry = new Map<string, EntryDataOf<'runner_registered'>>();
  const baselines = new Map<string, EntryDataOf<'baseline_recorded'>>();
  const decided = new Set<string>();
  const decidedSeq = new Map<string, number>();
  const closedSeq = new Map<string, number>();
  const longRuns = new Map<string, number>();
  const started = new Map<string, EntryDataOf<'job_started'> & { time: string }>();
  for (const e of entries) {
    if (e.type === 'job_started') {
      const d = (e as LedgerEntry<'job_started'>).data;
      if (!started.has(d.job_id)) started.set(d.job_id, { ...d, time: e.time });
    } else if (e.type === 'job_dispatched') {
      const d = (e as LedgerEntry<'job_dispatched'>).data;
      jobs.set(d.job_id, { ...d, time: e.time });
    } else if (e.type === 'runner_registered') {
      const d = (e as LedgerEntry<'runner_registered'>).data;
      registry.set(d.runner_name, d);
    } else if (e.type === 'baseline_recorded') {
      const d = (e as LedgerEntry<'baseline_recorded'>).data;
      baselines.set(`${d.hardware_class}@${d.sha}`, d);
    } else if (e.type === 'experiment_merged' || e.type === 'experiment_discarded') {
      const d = e.data as { pr: number; sha: string };
      decided.add(`${d.pr}@${d.sha}`);
      decidedSeq.set(`${d.pr}@${d.sha}`, e.seq);
    } else if (e.type === 'experiment_outdated') {
      const d = e.data as { pr: number; sha: string };
      decidedSeq.set(`${d.pr}@${d.sha}`, e.seq);
    } else if (e.type === 'experiment_dequeued' || e.type === 'result_recorded') {
      // a close of the PR ended the commit's claim or one of its jobs
      const d = e.data as { pr: number | null; sha: string; reason: string | null; result?: unknown };
      if (d.pr !== null && d.reason === `PR #${d.pr} was closed` && (e.type === 'experiment_dequeued' || d.result === null)) closedSeq.set(`${d.pr}@${d.sha}`, e.seq);
    } else if (e.type === 'credit_spent') {
      const d = (e as LedgerEntry<'credit_spent'>).data;
      const issue = longRunIssue(d.reason);
      if (issue !== null) longRuns.set(d.job_id, issue);
    }
  }
  const queue = queueOf(entries, longRuns); // the second pass, kept as it was
  const baselineRuns: BaselineRun[] = [];
  for (const { data: r } of state.results.values()) {
    if (r.role !== 'baseline' || longRuns.has(r.job_id) || !r.validated || !r.result || r.result.status !== 'ok' || r.result.val_bpb === null) continue;
    baselineRuns.push({ hardware_class: r.result.hardware_class, sha: r.sha, val_bpb: r.result.val_bpb, tokens_per_second: r.result.tokens_per_second, job_id: r.job_id, owner: r.runner_owner });
  }
  // then the runs merges name as samples of their commit's baseline, in the merges' order
  for (const e of entries) {
    if (e.type !== 'experiment_merged') continue;
    const d = (e as LedgerEntry<'experiment_merged'>).data;
    for (const j of d.baseline_job_ids ?? []) {
      const r = state.results.get(j)!.data.result!;
      baselineRuns.push({ hardware_class: d.hardware_class, sha: d.merge_sha, val_bpb: r.val_bpb!, tokens_per_second: r.tokens_per_second, job_id: j, owner: state.results.get(j)!.data.runner_owner, reused: true });
    }
  }
  const open = [...jobs.values()].filter((j) => !state.results.has(j.job_id));
  const ungranted = new Set([...state.results.keys()].filter((j) => !state.grants.has(j) && !state.reversals.has(j)));
  return { entries, state, jobs, open, started, registry, baselineRuns, baselines, decided, decidedSeq, closedSeq, longRuns, queue, ungranted };
}

/** The credit grants a view makes due, as the App looked for them before (over every result). */
function referenceGrants(v: ReturnType<typeof reference>): unknown[] {
  const out: unknown[] = [];
  for (const [jobId, { data: r }] of v.state.results) {
    if (!r.validated || !r.result || r.result.failure?.kind === 'harness_error') continue;
    const k = `${r.pr}@${r.sha}`;
    const seq = v.state.results.get(jobId)!.seq;
    const t = v.state.trust;
    const standing = () => [...v.jobs.values()].every((j) => j.verifies !== jobId || j.role !== 'verify' || !!j.replay || !(t.faulted.has(j.job_id) || t.awaitsReplay(j.job_id)));
    if (r.role === 'candidate' && !v.longRuns.has(jobId) && !((v.decidedSeq.get(k) ?? -1) > seq || ((v.closedSeq.get(k) ?? -1) > seq && t.checked.has(jobId) && standing()))) continue;
    const g = v.state.creditFor(jobId);
    if (g) out.push(g);
  }
  return out;
}

/**
 * Everything a view holds, in order (Map and Set order included), as text: the LedgerState with
 * its private fields and trust book, every derived map. Entries are named by seq and hash.
 */
function digest(v: Omit<LedgerView, 'entries'> & { entries: readonly LedgerEntry[] }): string {
  return JSON.stringify(v, (k, x) => {
    if (k === 'cow' || k === 'pendingMemo') return undefined; // a LedgerState's bookkeeping (what a copy still shares, a kept answer)
    if (x instanceof Map) return ['Map', [...x]];
    if (x instanceof Set) return ['Set', [...x]];
    if (x && typeof x === 'object' && typeof x.hash === 'string' && typeof x.seq === 'number' && 'prev' in x) return `entry ${x.seq} ${x.hash}`;
    return x;
  });
}

/** Every balance a state gives (pending credit included), with the seqs of its history. */
const balancesOf = (state: LedgerState) => [...state.balances()].map(([login, b]) => [login, b.earned, b.pending, b.spent, b.reversed, b.balance, b.history.map((e) => e.seq)]);

/** Free-tier counts per login and day, as the App reads them from the view and as the scan counts them. */
function freeRuns(v: LedgerView, days: string[]): [number, number][] {
  const logins = new Set(v.entries.filter((e) => e.type === 'credit_spent').map((e) => (e.data as { login: string }).login));
  return [...logins].flatMap((l) => days.map((d): [number, number] => [v.state.freeRunsLeft(l, 5, new Date(d)), freeRunsLeft(v.entries, l, 5, new Date(d))]));
}

/** A rng for the replay's choices (the test is the same every run). */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

beforeEach(() => setViewCache(true));
afterEach(() => setViewCache(true));

describe('the incremental ledger view', () => {
  it("equals the whole-chain fold after every append of a swarm's ledger, with simulated forks and fresh reads between, and earlier views never change", async () => {
    // a swarm with adversaries: trust, faults, bans, merges, baselines
    const swarm = new Swarm({ experiments: 8, seed: 3, checkEvery: 0 });
    await swarm.run();
    const entries = swarm.ledger();
    expect(entries.length).toBeGreaterThan(150);
    expect(new Set(entries.map((e) => e.type)).size).toBeGreaterThan(10);
    setViewCache(true);
    const r = rng(7);
    const handedOut: { chain: LedgerEntry[]; view: LedgerView; was: string }[] = [];
    let due = 0;
    const check = (chain: LedgerEntry[]) => {
      const v = viewOf(chain);
      const ref = reference(chain);
      const was = digest(ref);
      expect(digest(v)).toBe(was);
      const grants = grantsDue(v);
      expect(grants).toEqual(referenceGrants(ref));
      const balances = balancesOf(ref.state);
      expect(balancesOf(v.state)).toEqual(balances);
      expect(balancesOf(v.state)).toEqual(balances); // asked again: the kept answer
      due += grants.length;
      handedOut.push({ chain, view: v, was });
      return v;
    };
    let n = 0;
    let forks = 0;
    let fresh = 0;
    while (n < entries.length) {
      n = Math.min(entries.length, n + 1 + Math.floor(r() * 3));
      const chain = entries.slice(0, n); // the same entry objects, as the store hands them out
      // the view is folded at every append; compared with the whole-chain fold (quadratic) at a third of them and at the end
      const v = r() < 1 / 3 || n === entries.length ? check(chain) : viewOf(chain);
      expect(viewOf(entries.slice(0, n))).toBe(v); // the same chain again: the same view, nothing folded
      if (r() < 0.2) {
        // what record() does: the view of the chain it is about to append, which may never be written
        const next = entries[n];
        if (next) {
          check([...chain, ...appendEntries(chain, [{ type: next.type, data: next.data, time: '2026-12-31T00:00:00.000Z' } as NewEntry])]);
          forks++;
        }
      }
      if (r() < 0.05) {
        // another writer sealed the tail, or a new process: the chain read afresh (equal entries, new objects)
        check(JSON.parse(JSON.stringify(chain)) as LedgerEntry[]);
        fresh++;
      }
    }
    expect(forks).toBeGreaterThan(10);
    expect(due).toBeGreaterThan(10);
    expect(fresh).toBeGreaterThan(2);
    for (const h of handedOut) expect(digest(h.view)).toBe(h.was);
    const last = viewOf(entries);
    expect(Object.isFrozen(last.entries)).toBe(true);
    expect(() => (last.entries as LedgerEntry[]).push(entries[0])).toThrow(TypeError);
    expect(freeRuns(last, ['2026-12-01T12:00:00Z', '2026-12-02T12:00:00Z']).every(([a, b]) => a === b)).toBe(true);
  }, 120_000);

  it('equals the whole-chain fold where a later entry changes an earlier place: a long run paid after its dispatch, a job recorded twice, a re-queue', () => {
    const queued = (pr: number, sha: string, minute: number): NewEntry => ({
      type: 'experiment_queued',
      time: at(minute),
      data: { pr, sha, author: 'agent-alice', title: 't', check: null, comment: null, waiting_for: null },
    });
    const asBaseline = (e: NewEntry<'result_recorded'>, validated = true): NewEntry => ({ ...e, data: { ...e.data, role: 'baseline', pr: null, validated, reason: validated ? null : 'bad' } });
    const news: NewEntry[] = [
      queued(7, sha40(7), 0),
      queued(8, sha40(8), 1),
      dispatched('long-1', 'agent-alice', { pr: 7, time: at(2) }),
      spent('agent-alice', 0, 'free-1', FREE_TIER_REASON),
      { ...spent('agent-alice', 1200, 'long-1', longRunReason(42)), time: at(3) }, // paid after the dispatch: a long run, so PR 7 stays queued
      dispatched('b-1', null, { role: 'baseline', time: at(4) }),
      dispatched('b-2', null, { role: 'baseline', time: at(4) }),
      dispatched('b-3', null, { role: 'baseline', time: at(4) }),
      asBaseline(recorded('b-1', 'gpu-bob'), false),
      asBaseline(recorded('b-2', 'gpu-carol')),
      asBaseline(recorded('b-1', 'gpu-bob')), // the same job again: now a baseline run, in its first place (before b-2)
      asBaseline(recorded('b-3', 'gpu-dave')),
      { ...spent('agent-alice', 10, 'b-2', longRunReason(43)), time: at(6) }, // a long run's result is no baseline
      baseline('gpu-a10g', 20_000),
      queued(7, sha40(9), 7), // re-queued at a new commit: its place moves to the end
      dispatched('c-8', 'agent-bob', { pr: 8, time: at(8) }),
      { type: 'experiment_dequeued', data: { pr: 7, sha: sha40(7), reason: 'stale commit' } }, // not the queued commit any more: no effect
      { ...spent('agent-alice', 0, 'free-2', FREE_TIER_REASON), time: '2026-03-03T00:30:00.000+02:00' }, // 2 March in UTC
    ];
    const chain: LedgerEntry[] = [];
    for (const n of news) {
      chain.push(...appendEntries(chain, [{ time: at(10), ...n }]));
      const v = viewOf([...chain]);
      expect(digest(v)).toBe(digest(reference(chain)));
      expect(grantsDue(v)).toEqual(referenceGrants(reference(chain)));
      expect(freeRuns(v, ['2026-03-02T23:00:00Z', '2026-03-03T01:00:00Z']).every(([a, b]) => a === b)).toBe(true);
    }
    const v = viewOf([...chain]);
    expect([...v.queue.keys()]).toEqual([7]);
    expect(v.queue.get(7)!.sha).toBe(sha40(9));
    expect(v.baselineRuns.map((b) => b.job_id)).toEqual(['b-1', 'b-3']);
    expect(v.state.freeRunsLeft('agent-alice', 5, new Date('2026-03-02T12:00:00Z'))).toBe(3);
  });

  it('is a fold from seq 0 when the chain is not an extension of a kept view (the same seqs with other entries)', () => {
    const a = appendEntries([], [dispatched('j1', 'agent-alice', { time: at(0) }), recorded('j1', 'gpu-bob', { time: at(1) })]);
    const va = viewOf(a);
    const b = appendEntries([], [dispatched('j1', 'agent-alice', { time: at(0) }), recorded('j1', 'gpu-bob', { time: at(1), val_bpb: 1.5 })]);
    expect(b[0].hash).toBe(a[0].hash);
    const vb = viewOf(b);
    expect(vb).not.toBe(va);
    expect(vb.state.results.get('j1')!.data.result!.val_bpb).toBe(1.5);
    expect(va.state.results.get('j1')!.data.result!.val_bpb).toBe(2.1);
    expect(digest(vb)).toBe(digest(reference(b)));
  });
});

describe('the incremental view over the GitHub store', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const store = () => new GitHubLedgerStore(new Octokit({ auth: 'ghs_test', log: quiet }), { owner: 'octo-org', repo: 'swarm', retryDelayMs: 1, trustMs: 0 });
  let repo: FakeGitRepo;
  beforeEach(() => {
    nock.disableNetConnect();
    resetRecordedCalls();
    repo = new FakeGitRepo();
    repo.serve();
  });
  afterEach(() => {
    expectRealGitHubCalls();
    nock.cleanAll();
  });
  const onBranch = () => parseLedgerText(Object.entries(repo.filesAt('ledger')).filter(([p]) => p.startsWith('entries/')).map(([path, text]) => ({ path, text })));
  const rewriteTail = (entries: LedgerEntry[]) => {
    const head = repo.refs.get('heads/ledger')!;
    const tree = new Map(repo.trees.get(repo.commits.get(head)!.tree)!);
    tree.set(TAIL_FILE, repo.putBlob(entries.map(entryLine).join('')));
    repo.refs.set('heads/ledger', repo.putCommit(repo.putTree(tree), [head], 'rewrite'));
  };

  it("follows the App's appends and another process's, and the store still refuses a tampered or rewritten branch", async () => {
    const app = store();
    const other = store();
    await app.append([baseline('gpu-a10g', 20_000, sha40(1), at(0)), dispatched('j1', 'agent-alice', { time: at(1) })]);
    const v1 = viewOf(await app.read());
    const v1was = digest(reference(onBranch()));
    expect(digest(v1)).toBe(v1was);
    // another App process appends: the first one's next read adds the new lines to the entries it holds
    await other.append([recorded('j1', 'gpu-bob', { time: at(2) })]);
    const v2 = viewOf(await app.read());
    expect(v2.entries.slice(0, 2)).toEqual(v1.entries.slice(0, 2));
    expect(v2.entries[0]).toBe(v1.entries[0]); // folded on from v1, not from seq 0
    expect(digest(v2)).toBe(digest(reference(onBranch())));
    expect(digest(v1)).toBe(v1was);
    expect(v2.open).toEqual([]);
    // and its own append after that
    const [grant] = await app.append([{ type: 'credit_spent', time: at(3), data: { login: 'agent-alice', amount: 0, job_id: 'j1', reason: FREE_TIER_REASON } }]);
    const v3 = viewOf([...v2.entries, grant]);
    expect(digest(v3)).toBe(digest(reference(onBranch())));
    expect(viewOf(await app.read())).toBe(v3);

    // tampered: an entry's content changed, its hash kept
    const good = onBranch();
    const tampered = good.map((e) => (e.seq === 2 ? { ...e, data: { ...e.data, runner_owner: 'mallory' } } : e)) as LedgerEntry[];
    rewriteTail(tampered);
    await expect(app.read()).rejects.toThrow(/broken at seq 2: hash differs/);
    // rewritten: a valid chain that no longer holds the head this store read
    rewriteTail(appendEntries([], good.map((e) => ({ type: e.type, time: e.time, data: e.seq === 2 ? { ...e.data, runner_owner: 'mallory' } : e.data }) as NewEntry)));
    await expect(app.read()).rejects.toThrow(/broken at seq 3: .*rewritten/);
    // a new process reads that rewritten chain afresh (it has no earlier head to hold it to): new entry objects, a fold from seq 0
    const fresh = await store().read();
    const vf = viewOf(fresh);
    expect(vf.state.results.get('j1')!.data.runner_owner).toBe('mallory');
    expect(digest(vf)).toBe(digest(reference(fresh)));
    expect(v3.state.results.get('j1')!.data.runner_owner).toBe('gpu-bob');
  });
});

describe('the simulator with and without the view cache', () => {
  it('gives the same figures for the same seed (all but wall and CPU seconds)', async () => {
    const run = async (cache: boolean) => {
      setViewCache(cache);
      const { wall_seconds, cpu_seconds, ...f } = await new Swarm({ experiments: 20, seed: 3, checkEvery: 0 }).run();
      expect(wall_seconds).toBeGreaterThan(0);
      expect(cpu_seconds).toBeGreaterThanOrEqual(0);
      return f;
    };
    const cached = await run(true);
    const folded = await run(false);
    expect(cached.experiments).toBe(20);
    expect(cached).toEqual(folded);
  }, 180_000);
});
