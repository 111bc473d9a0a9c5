// A job's deadline counts from its run's start on a runner, not from its dispatch (issue 11's
// overhead, issue 14's leftover). Before, a run queued behind a busy fleet was "overdue" 30 minutes
// after its dispatch although no runner had taken it: the App dispatched it again and both copies
// ran. Each scenario failed against the App that counted from the dispatch.
import { afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { auditLedger } from '../../ledger/index.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const minutes = (w: World, m: number) => (w.clock = new Date(w.clock.getTime() + m * 60_000));
const runOf = (w: World, d: { run_id?: number }) => w.gh.workflowRuns.get(d.run_id!)!;

afterEach(() => {
  const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  nock.cleanAll();
});

describe('a queued run is not late', () => {
  it('a job queued longer than its deadline but never started is not dispatched twice', async () => {
    const w = new World({ config: 'deadline_minutes: 30\nqueue_limit_minutes: 120\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    for (const m of [31, 30, 30]) {
      minutes(w, m);
      await w.tick();
    }
    // 91 minutes queued: one dispatch, still open, its run still queued
    expect(w.gh.dispatches.map((d) => d.inputs.pr)).toEqual(['7']);
    expect(w.entries('result_recorded')).toEqual([]);
    expect(runOf(w, w.gh.dispatches[0]).status).toBe('queued');
    // a runner takes it at last and it reports: scored as usual
    await w.start(w.gh.dispatches[0], 'runner-a');
    await w.complete(w.gh.dispatches[0], 'runner-a', 2.05);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.dispatches).toHaveLength(1);
  });

  it('a job queued behind more than 100 newer runs is still seen as queued (the listing is read page by page), not closed as late', async () => {
    // Before, the tick read one page (the newest 100 queued runs): an older queued run was missing
    // from it, taken for one that started at its dispatch, closed as late after deadline_minutes and
    // dispatched again, newest, pushing the next oldest off the page (a six-owner simulated swarm:
    // 801 jobs closed so, 80 PRs given up).
    const w = new World({ config: 'deadline_minutes: 30\nqueue_limit_minutes: 120\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    minutes(w, 1);
    for (let i = 0; i < 120; i++) w.gh.dispatch('experiment.yml', 'main', { ...d.inputs, nonce: `someone-else-${i}`, pr: '' });
    for (const m of [31, 30]) {
      minutes(w, m);
      await w.tick();
    }
    expect(w.entries('result_recorded')).toEqual([]);
    expect(w.gh.dispatches.filter((x) => x.inputs.pr === '7')).toHaveLength(1);
    expect(runOf(w, d).status).toBe('queued');
  });

  it('a job whose run was created in the same second as 100 newer ones is not taken for a lost dispatch', async () => {
    // The one-page listing of all runs counted as reaching back to a job when its oldest run was
    // created no later than the job was recorded: with the same second on both sides of the page's
    // end, the job's run was off the page and the job was closed as "never reached GitHub".
    const w = new World({ config: 'deadline_minutes: 30\nqueue_limit_minutes: 120\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    for (let i = 0; i < 120; i++) w.gh.dispatch('experiment.yml', 'main', { ...d.inputs, nonce: `someone-else-${i}`, pr: '' });
    minutes(w, 31);
    await w.tick();
    expect(w.entries('result_recorded')).toEqual([]);
    expect(runOf(w, d).status).toBe('queued');
  });

  it('a run that started and passed its deadline is dispatched again: the deadline counts from the start', async () => {
    const w = new World({ config: 'deadline_minutes: 30\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    minutes(w, 40);
    await w.start(w.gh.dispatches[0], 'runner-a');
    expect(w.entries('job_started').map((e) => e.data)).toEqual([{ job_id: w.gh.dispatches[0].inputs.nonce, run_id: w.gh.dispatches[0].run_id, runner_name: 'runner-a', started_at: w.clock.toISOString() }]);
    minutes(w, 25); // 65 minutes after the dispatch, 25 after the start
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1);
    minutes(w, 6);
    await w.tick();
    expect(w.entries('result_recorded').map((r) => r.data.reason)).toEqual(['no result within 30 minutes of its start on runner-a (attempt 1)']);
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.sha])).toEqual([['7', head], ['7', head]]);
    // the started run is left to finish (its late result is ignored), not cancelled
    expect(runOf(w, w.gh.dispatches[0]).status).toBe('in_progress');
  });

  it('a job queued past the queue limit is cancelled on GitHub and dispatched again, once', async () => {
    const w = new World({ config: 'deadline_minutes: 30\nqueue_limit_minutes: 120\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const first = w.gh.dispatches[0];
    minutes(w, 121);
    await w.tick({ processes: [w.probot, w.makeProbot()] }); // two processes at once
    await w.tick();
    expect(w.entries('result_recorded').map((r) => r.data.reason)).toEqual(['no runner took its run within 120 minutes of its dispatch (cancelled) (attempt 1)']);
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.role])).toEqual([['7', 'candidate'], ['7', 'candidate']]);
    expect(w.entries('job_dispatched').map((j) => j.data.attempt)).toEqual([1, 2]);
    expect(runOf(w, first)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(runOf(w, w.gh.dispatches[1]).status).toBe('queued');
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)[0]).toMatchObject({ status: 'in_progress' });
  });

  it('past its last attempt a job no runner takes is given up with a final check', async () => {
    const w = new World({ config: 'max_attempts: 1\nqueue_limit_minutes: 60\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    minutes(w, 61);
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1);
    expect(runOf(w, w.gh.dispatches[0]).conclusion).toBe('cancelled');
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'completed', conclusion: 'timed_out' });
  });
});

describe('the start, recorded once whatever the order', () => {
  it('an in_progress event that was lost: the tick records the start from the jobs API, and the run is not cancelled as queued', async () => {
    const w = new World({ config: 'deadline_minutes: 30\nqueue_limit_minutes: 40\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    minutes(w, 20);
    const startedAt = w.clock.toISOString();
    await w.start(w.gh.dispatches[0], 'runner-a', { deliver: false });
    minutes(w, 21); // past the queue limit and the deadline since the dispatch
    await w.tick();
    expect(w.entries('job_started').map((e) => [e.data.runner_name, e.data.started_at])).toEqual([['runner-a', startedAt]]);
    expect(w.entries('result_recorded')).toEqual([]);
    expect(runOf(w, w.gh.dispatches[0]).status).toBe('in_progress');
    minutes(w, 10); // 31 minutes after the start
    await w.tick();
    expect(w.entries('result_recorded').map((r) => r.data.reason)).toEqual(['no result within 30 minutes of its start on runner-a (attempt 1)']);
  });

  it('a start right after the dispatch is not recorded (no call, no write): the deadline counts from the dispatch, judged by the tick', async () => {
    const w = new World({ config: 'deadline_minutes: 30\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    minutes(w, 1);
    await w.start(w.gh.dispatches[0], 'runner-a');
    expect(w.entries('job_started')).toEqual([]);
    minutes(w, 31);
    await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.entries('result_recorded')).toEqual([]); // outside the tick: it might be queued
    // the tick finds it in progress past its deadline counted from the dispatch: its start is read from GitHub
    await w.tick();
    expect(w.entries('job_started').map((e) => [e.data.runner_name, e.data.started_at])).toEqual([['runner-a', '2026-11-24T12:01:00.000Z']]);
    expect(w.entries('result_recorded').map((r) => r.data.reason)).toEqual(['no result within 30 minutes of its start on runner-a (attempt 1)']);
  });

  it('redelivered, handled by two processes, or arriving after the result: one job_started at most', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    const [a, b] = w.gh.dispatches;
    minutes(w, 5);
    await w.start(a, 'runner-a', { deliveries: 2 });
    await w.redeliver(w.makeProbot());
    const ev = await w.start(b, 'runner-b', { deliver: false });
    await w.complete(b, 'runner-b', 2.05); // completed first
    await w.probot.receive(ev);
    expect(w.entries('job_started').map((e) => e.data.job_id)).toEqual([a.inputs.nonce]);
  });

  it('a workflow_job of a run the App did not dispatch (a PR\'s own workflow naming a job\'s nonce) records nothing', async () => {
    const w = new World({ config: 'deadline_minutes: 30\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    // the PR's workflow, its run titled like experiment.yml's and its job named like it, on a runner with the label
    minutes(w, 5);
    const ev = await w.start(d, 'runner-a', { deliver: false });
    const forged = structuredClone(ev);
    forged.id = 'forged-1';
    forged.payload.workflow_job.run_id = 777;
    forged.payload.workflow_job.head_branch = 'main';
    w.gh.runs.set(777, { runner_name: 'runner-m', artifact: null, workflow_run: { ...w.gh.workflowRunPayload(runOf(w, d)).workflow_run, id: 777, event: 'pull_request', status: 'in_progress', conclusion: null } });
    await w.probot.receive(forged);
    expect(w.entries('job_started')).toEqual([]);
    await w.probot.receive(ev); // the real one
    expect(w.entries('job_started').map((e) => e.data.run_id)).toEqual([d.run_id]);
  });
});

describe('queued runs of closed jobs', () => {
  it('a push supersedes a queued job: the tick cancels its run, so no runner spends its time on it', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const old = w.gh.dispatches[0];
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' }, 'synchronize');
    minutes(w, 6);
    await w.tick();
    expect(runOf(w, old)).toMatchObject({ status: 'completed', conclusion: 'cancelled' });
    expect(runOf(w, w.gh.dispatches[1]).status).toBe('queued');
  });
});
