// A ban re-tries the discards it taints. A trusted owner's discards are only spot-checked, so an
// owner who turns saboteur discards real improvements until a check catches it; the ban reversed
// its credits, but the PRs it discarded stayed discarded (and closed, under close_on_discard).
// Attack first: mallory, trusted, reports a made-up bad score for a real improvement; once she is
// banned the PR is reopened, queued again at the swarm's cost and reaches verification.
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { appendEntries, auditLedger, ledgerFiles, type EntryDataOf, type NewEntry } from '../../ledger/index.js';
import { retrialsDue } from '../../app/policy/retrials.js';
import { banEntries } from '../../app/policy/replication.js';
import { viewOf } from '../../app/ledger-view.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { result as fixtureResult } from '../ledger/fixtures.js';
import { CLASS, online, reg, World } from './world.js';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

/** Appends entries to the world's ledger as another process of the App would. */
function record(w: World, news: NewEntry[]): void {
  const chain = w.ledger();
  const all = [...chain, ...appendEntries(chain, news.map((e) => ({ ...e, time: w.clock.toISOString() })))];
  w.gh.refs.set('heads/ledger', w.gh.commit(ledgerFiles(all), null, 'ledger'));
}

function world(): World {
  const w = new World({ config: 'max_in_flight: 20\nclose_on_discard: true\n', seed: [] });
  const regs = [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-m', 'mallory')];
  online(w, 'runner-m', 'mallory');
  w.seedLedger([...regs, { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  return w;
}

/** A validated run of `owner` on a commit no PR is about (the disputes mallory lost elsewhere). */
function run(job: string, owner: string, bpb: number): NewEntry[] {
  const sha = 'f'.repeat(40);
  return [
    { type: 'job_dispatched', data: { job_id: job, role: 'baseline', repo: 'o/r', pr: null, sha, author: null, hardware_class: CLASS, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } },
    { type: 'result_recorded', data: { job_id: job, role: 'baseline', pr: null, sha, title: null, author: null, runner_name: `runner-${owner}`, runner_owner: owner, run_url: null, validated: true, reason: null, result: fixtureResult({ hardware_class: CLASS, train_seconds: 300, val_bpb: bpb, job_id: job }), diff_path: null, diff_sha256: null, log_excerpt: null } },
  ];
}

/** mallory outvoted twice elsewhere by three agreeing owners */
const FAULTS: NewEntry[] = [
  ...[1, 2].flatMap((i): NewEntry[] => [
    ...run(`x${i}`, 'mallory', 2.3),
    ...run(`a${i}`, 'alice', 2.0),
    ...run(`b${i}`, 'bob', 2.001),
    ...run(`c${i}`, 'carol', 2.002),
    { type: 'owner_faulted', data: { login: 'mallory', job_id: `x${i}`, claim_job_id: `x${i}`, agreed_job_ids: [`a${i}`, `b${i}`, `c${i}`], reason: 'outvoted' } },
  ]),
];

/** mallory's faults, then her ban as the App records it (the ban forfeits her unproven credits) */
function ban(w: World): void {
  record(w, FAULTS);
  const { state } = viewOf(w.ledger());
  record(w, banEntries(state, state.trust.policy!, 'mallory', '2 faults, the last on job x2'));
}

describe('a ban re-tries the discards it taints', () => {
  afterEach(() => {
    const audit = auditLedger(World.last!.ledger());
    expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  });

  it('a real improvement a trusted saboteur discarded is reopened, queued again at the swarm\'s cost and verified once she is banned', async () => {
    const w = world();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-m', 2.03); // made up: the improvement scores ~1.95
    expect(w.entries('experiment_discarded')).toHaveLength(1);
    expect(w.gh.pulls.get(7)!.state).toBe('closed');
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1); // nothing is tried again while she is in good standing

    ban(w);
    await w.tick({ processes: [w.makeProbot()] }); // (a process that reads the ledger afresh)
    expect(w.gh.pulls.get(7)!.state).toBe('open');
    expect(w.entries('experiment_queued').filter((q) => q.data.pr === 7 && q.data.sha === head)).toHaveLength(1);
    expect(w.gh.stickyOf(7)[0]).toMatch(/discarded on a run of mallory, whose runner owner has been banned since/);
    const again = w.gh.dispatches[1];
    expect(again.inputs).toMatchObject({ role: 'candidate', pr: '7', sha: head });
    // its author paid for this commit once: the second run is the swarm's
    const dispatched = w.entries('job_dispatched').find((j) => j.data.job_id === again.inputs.nonce)!;
    expect(dispatched.data.author).toBeNull();
    expect(w.entries('credit_spent')).toHaveLength(1);

    await w.complete(again, 'runner-a', 1.95);
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'verify', pr: '7', runner_label: 'owner-bob' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);

    // a retrial happens once: the next tick leaves the PR alone
    await w.tick();
    expect(w.entries('experiment_queued').filter((q) => q.data.pr === 7)).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(3);
  });

  it('a PR pushed to since its discard is not tried again: its new head is the experiment', async () => {
    const w = world();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-m', 2.03);
    // the author reopens the PR and pushes another commit, which runs and is judged on its own
    w.gh.pulls.get(7)!.state = 'open';
    const newer = await w.push(7, 'octo-agent', { 'trainer/train.ts': `${GOOD}// again\n` });
    expect(newer).not.toBe(head);
    const before = w.gh.dispatches.length;
    ban(w);
    await w.tick({ processes: [w.makeProbot()] });
    await w.tick();
    expect(w.entries('experiment_queued').filter((q) => q.data.sha === head)).toEqual([]);
    expect(w.entries('experiment_dequeued').filter((q) => q.data.sha === head).map((q) => q.data.reason)).toEqual([
      `not tried again although it was discarded on a run of mallory, banned since: the PR's head is now ${newer.slice(0, 7)}`,
    ]);
    expect(w.gh.dispatches.slice(before).filter((d) => d.inputs.sha === head)).toEqual([]);
  });
});

describe('retrialsDue', () => {
  const sha = 'a'.repeat(40);
  const job = (id: string, role: 'candidate' | 'verify', replay?: string): NewEntry => ({
    type: 'job_dispatched',
    data: { job_id: id, role, repo: 'o/r', pr: 7, sha, author: 'octo-agent', pr_author: 'octo-agent', hardware_class: null, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: role === 'verify' ? 'c1' : null, ...(replay ? { replay, seed: 5 } : {}) },
  });
  const result = (id: string, owner: string, bpb: number, role: 'candidate' | 'verify' = 'candidate'): NewEntry => ({
    type: 'result_recorded',
    data: { job_id: id, role, pr: 7, sha, title: 'Experiment 7', author: 'octo-agent', runner_name: `runner-${owner}`, runner_owner: owner, run_url: null, validated: true, reason: null, result: fixtureResult({ hardware_class: CLASS, train_seconds: 300, val_bpb: bpb, job_id: id }), diff_path: null, diff_sha256: null, log_excerpt: null } as EntryDataOf<'result_recorded'>,
  });
  const discard: NewEntry = { type: 'experiment_discarded', data: { pr: 7, sha, reason: 'no improvement', hardware_class: CLASS, val_bpb: 2.03 } };
  const ban = (login: string): NewEntry => ({ type: 'owner_banned', data: { login, reason: '2 faults' } });
  const due = (es: NewEntry[]) => retrialsDue(viewOf(appendEntries([], es.map((e) => ({ ...e, time: '2026-12-05T10:00:00.000Z' })))));

  it('a discard that counted an unproven run of an owner banned since, once', () => {
    const base = [job('c1', 'candidate'), result('c1', 'mallory', 2.03), discard];
    expect(due(base)).toEqual([]);
    expect(due([...base, ban('mallory')])).toEqual([{ pr: 7, sha, author: 'octo-agent', title: 'Experiment 7', job_id: 'c1', owners: ['mallory'] }]);
    // a verify run of hers in the mean the discard rested on taints it as well
    const chain = [job('c1', 'candidate'), result('c1', 'alice', 1.98), job('v1', 'verify'), result('v1', 'mallory', 2.05, 'verify'), discard];
    expect(due([...chain, ban('mallory')]).map((r) => r.owners)).toEqual([['mallory']]);
    // settled: queued again (or dequeued with a reason), it is no longer due
    expect(due([...base, ban('mallory'), { type: 'experiment_queued', data: { pr: 7, sha, author: 'octo-agent', title: null, check: null, comment: null, waiting_for: null } }])).toEqual([]);
    expect(due([...base, ban('mallory'), { type: 'experiment_dequeued', data: { pr: 7, sha, reason: 'not tried again' } }])).toEqual([]);
    // run again and discarded on honest runs: nothing more to try
    expect(due([...base, ban('mallory'), job('c2', 'candidate'), result('c2', 'alice', 2.02), discard])).toEqual([]);
  });

  it('never for an honest owner\'s discard, a replay\'s run, or a PR of a banned author', () => {
    expect(due([job('c1', 'candidate'), result('c1', 'alice', 2.03), discard, ban('mallory')])).toEqual([]);
    // mallory only replayed alice's run: a replay checks a run, it is no run of the PR
    expect(due([job('c1', 'candidate'), result('c1', 'alice', 2.03), job('r1', 'verify', 'sched'), result('r1', 'mallory', 2.03, 'verify'), discard, ban('mallory')])).toEqual([]);
    expect(due([job('c1', 'candidate'), result('c1', 'mallory', 2.03), discard, ban('mallory'), ban('octo-agent')])).toEqual([]);
  });
});
