// A durable App: nothing lost or done twice under faults, reordering, redelivery, a second
// process or rate limits (issue 14). Each scenario is one finding of the faked-GitHub runs; each
// failed against the App before the fix it names.
import { afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { auditLedger } from '../../ledger/index.js';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { CLASS, World } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const BETTER = 'export const LR = 7e-4;\n// a better schedule still\n';
const minutes = (w: World, m: number) => (w.clock = new Date(w.clock.getTime() + m * 60_000));

afterEach(() => {
  const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  nock.cleanAll();
});

describe('intent before effect', () => {
  it('a merge whose record is lost (500s after pulls.merge) is recorded and credited by the next tick; a redelivery neither re-queues nor re-dispatches it', async () => {
    const w = new World({ retries: true });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const claim = w.gh.dispatches[0];
    await w.complete(claim, 'runner-a', 1.9);
    const verify = w.gh.dispatches[1];
    // every ledger write after the merge fails, Probot's own retries included
    for (let k = 0; k < 6; k++) w.gh.faults.push({ method: 'PUT', path: /\/contents\/entries/, status: 500, when: () => w.gh.merges.length > 0 });
    await expect(w.complete(verify, 'runner-b', 1.905)).rejects.toThrow(/Server Error/);
    expect(w.entries('experiment_merged')).toEqual([]);
    expect(w.gh.merges).toHaveLength(1);
    w.gh.faults = [];
    // GitHub (or an operator) redelivers the failed delivery
    await w.redeliver();
    expect(w.gh.dispatches.filter((d) => d.inputs.role === 'candidate')).toHaveLength(1);
    expect(w.entries('experiment_queued')).toEqual([]);
    minutes(w, 3);
    await w.tick();
    expect(w.entries('experiment_merged').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 7, sha: head, merge_sha: w.gh.merges[0].merge_sha })]);
    // the claim's credit arrived, once
    expect(w.entries('credit_granted').map((g) => g.data.login).sort()).toEqual(['alice', 'bob']);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'completed', conclusion: 'success', title: 'Merged' });
    // baseline_runs (default 10) less the claim's two runs, its first samples (docs/trust.md 2a), also when the tick records the merge
    expect(w.entries('experiment_merged')[0].data.baseline_job_ids).toEqual([claim.inputs.nonce, verify.inputs.nonce]);
    expect(w.gh.dispatches.slice(2).map((d) => [d.inputs.role, d.inputs.sha])).toEqual(Array(8).fill(['baseline', w.gh.merges[0].merge_sha]));
    await w.tick(); // settled: nothing more
    expect(w.entries('experiment_merged')).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(10); // candidate, verify, 8 baselines
  });
  it('a merge request that failed with a 5xx (or timed out) is not abandoned as refused: the tick merges the intent', async () => {
    // seed 1, 200 PRs, faults: "GitHub refused the merge (Server Error)" left a verified PR labelled conflict for good
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    w.gh.faults.push({ method: 'PUT', path: /\/pulls\/7\/merge$/, status: 502 });
    await expect(w.complete(w.gh.dispatches[1], 'runner-b', 1.905)).rejects.toThrow();
    expect(w.entries('merge_abandoned')).toEqual([]);
    expect(w.gh.merges).toEqual([]);
    minutes(w, 3);
    await w.tick();
    expect(w.gh.merges.map((m) => m.sha)).toEqual([head]);
    expect(w.entries('experiment_merged')).toHaveLength(1);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
  });
});

describe('any order, any number of times', () => {
  it('synchronize(sha2) before opened(sha1): the head (sha2) runs, the stale commit never does, and the PR ends with a final check', async () => {
    const w = new World();
    const opened = w.prepare(7, 'octo-agent', { 'trainer/train.ts': GOOD }, 'opened');
    const pushed = w.prepare(7, 'octo-agent', { 'trainer/train.ts': BETTER }, 'synchronize');
    await pushed.deliver();
    await opened.deliver();
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([pushed.head]);
    expect(w.entries('result_recorded')).toEqual([]); // the head's job was not closed as superseded
    expect(w.gh.checksOf(opened.head)).toEqual([]);
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.merges.map((m) => m.sha)).toEqual([pushed.head]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:merged']);
    expect(w.gh.checksOf(pushed.head).map((c) => [c.status, c.title])).toEqual([['completed', 'Merged']]);
  });

  it('a push supersedes a running commit: the old commit\'s check run is completed, not left "Running"', async () => {
    const w = new World();
    const first = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const second = await w.push(7, 'octo-agent', { 'trainer/train.ts': BETTER }, 'synchronize');
    expect(w.gh.checksOf(first)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral', title: 'Superseded' })]);
    expect(w.gh.checksOf(second)).toEqual([expect.objectContaining({ status: 'in_progress' })]);
  });

  it('a pull_request event that never arrived: the tick finds the open PR\'s head unseen and runs it', async () => {
    const w = new World();
    const lost = w.prepare(7, 'octo-agent', { 'trainer/train.ts': GOOD }, 'opened');
    await w.tick();
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.sha])).toEqual([['7', lost.head]]);
    await w.tick(); // seen now: nothing twice
    await lost.deliver(); // and the late event finds it running
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.gh.checksOf(lost.head)).toHaveLength(1);
  });

  it('a run that completed while its workflow_run event was lost: the tick scores it, with no re-dispatch', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { deliveries: 0 });
    minutes(w, 6); // past the 300 s budget, well before the 30-minute deadline
    await w.tick();
    expect(w.entries('result_recorded').map((r) => [r.data.job_id, r.data.validated])).toEqual([[w.gh.dispatches[0].inputs.nonce, true]]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.checksOf(head)[0]).toMatchObject({ conclusion: 'neutral', title: 'No improvement' });
    expect(w.gh.dispatches).toHaveLength(1);
    await w.tick();
    expect(w.entries('result_recorded')).toHaveLength(1);
  });

  it('a PR closed while the App missed the event: the tick closes its job and gives the slot to the queue', async () => {
    const w = new World({ config: 'max_in_flight: 1\n' });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const queued = await w.push(8, 'other-agent', { 'trainer/train.ts': BETTER });
    w.gh.pulls.get(7)!.state = 'closed'; // no pull_request.closed delivered
    await w.tick();
    expect(w.entries('result_recorded')[0].data).toMatchObject({ pr: 7, reason: 'PR #7 was closed' });
    expect(w.gh.dispatches.map((d) => [d.inputs.pr, d.inputs.sha])).toEqual([['7', w.gh.pulls.get(7)!.head], ['8', queued]]);
  });
});

describe('no PR without a final check', () => {
  it('a report cut short after its record (the check run update refused for a rate limit) is completed by the tick', async () => {
    const w = new World({ retries: true });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    for (let k = 0; k < 4; k++) {
      w.gh.faults.push({ method: 'PATCH', path: /\/check-runs\/\d+$/, status: 403, body: { message: 'You have exceeded a secondary rate limit.' }, headers: { 'retry-after': '1' } });
    }
    await expect(w.complete(w.gh.dispatches[0], 'runner-a', 1.99)).rejects.toThrow(/secondary rate limit/);
    expect(w.entries('experiment_discarded')).toHaveLength(1); // recorded; the PR does not show it
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'in_progress' });
    await w.redeliver(); // a redelivery finds it recorded and does nothing
    expect(w.gh.checksOf(head)[0]).toMatchObject({ status: 'in_progress' });
    await w.tick();
    expect(w.gh.checksOf(head)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral', title: 'No improvement' })]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.stickyOf(7)).toEqual([expect.stringMatching(/### No improvement[\s\S]*Discarded: val_bpb 1\.9900 does not beat/)]);
    const calls = w.gh.checksOf(head).length;
    await w.tick(); // in agreement now: nothing more
    expect(w.gh.checksOf(head)).toHaveLength(calls);
  });

  it('a discarded PR closed and reopened runs again, and the tick shows its new run, not the old outcome', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    await w.close(7);
    await w.reopen(7);
    expect(w.gh.dispatches.map((d) => d.inputs.sha)).toEqual([head, head]);
    await w.tick();
    expect(w.gh.labelsOf(7)).not.toContain('experiment:discarded');
    expect(w.gh.checksOf(head).at(-1)).toMatchObject({ status: 'in_progress' });
  });
});

describe('every state has a deadline', () => {
  it('a PR waiting for a baseline whose runs were given up gets new baseline runs from the tick, not a wait for ever', async () => {
    const w = new World({
      config: 'max_in_flight: 10\nbaseline_runs: 2\nmax_attempts: 1\ndeadline_minutes: 30\n',
      seed: [
        { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: [] } },
        { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: [] } },
      ],
    });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:waiting-baseline']);
    expect(w.gh.dispatches.slice(1).map((d) => d.inputs.role)).toEqual(['baseline', 'baseline']);
    for (const d of w.gh.dispatches.slice(1)) await w.start(d, 'runner-a');
    minutes(w, 31);
    await w.tick(); // the baseline runs are given up (one attempt each)
    await w.tick();
    const again = w.gh.dispatches.slice(3);
    expect(again.map((d) => [d.inputs.role, d.inputs.sha])).toEqual([['baseline', w.main], ['baseline', w.main]]);
    await w.complete(again[0], 'runner-a', 2.0);
    await w.complete(again[1], 'runner-b', 2.02);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
  });

  it('owners who disagree on a baseline get one more run from the tick when the handler failed to ask for it; when twice the runs agree on nothing, the waiting PR is given up with a final check', async () => {
    // seed 1, 200 PRs, faults: 110 PRs waited a whole day for a cpu baseline whose six runs disagreed and that no one ran again
    const w = new World({
      config: 'max_in_flight: 10\nbaseline_runs: 2\n',
      seed: [
        { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: [] } },
        { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: [] } },
      ],
    });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.0);
    // the second run disagrees; the append of the one more run it calls for fails (a 5xx)
    w.gh.faults.push({ method: 'PUT', path: /\/contents\/entries/, status: 500, when: () => w.entries('result_recorded').length === 3 });
    await expect(w.complete(w.gh.dispatches[2], 'runner-b', 2.5)).rejects.toThrow();
    expect(w.gh.dispatches).toHaveLength(3);
    await w.tick();
    expect(w.gh.dispatches.slice(3).map((d) => d.inputs.role)).toEqual(['baseline']);
    await w.complete(w.gh.dispatches[3], 'runner-a', 2.0);
    await w.complete(w.gh.dispatches[4], 'runner-a', 2.0); // the fourth and last: still no two owners agree
    expect(w.gh.dispatches).toHaveLength(5);
    expect(w.entries('baseline_recorded')).toEqual([]);
    await w.tick();
    expect(w.entries('experiment_discarded').map((e) => e.data.reason)).toEqual([expect.stringMatching(/^no baseline of .{7} on gpu-test could be established: its 4 runs did not agree/)]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.checksOf(head)).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral', title: 'No baseline' })]);
    await w.tick();
    expect(w.entries('experiment_discarded')).toHaveLength(1);
  });

  it('the one more baseline run that disagreeing owners call for goes to an owner who has not run it yet', async () => {
    // seed 1, 200 PRs, faults: a forger took four of a cpu baseline's ten runs, so honest owners were never enough to agree
    const reg = (name: string, owner: string) => ({ type: 'runner_registered' as const, data: { runner_name: name, owner, hardware_class: CLASS, labels: [] } });
    const w = new World({ config: 'max_in_flight: 10\nbaseline_runs: 2\n', seed: [reg('runner-a', 'alice'), reg('runner-b', 'bob'), reg('runner-c', 'carol')] });
    w.gh.runners.push({ id: 3, name: 'runner-c', status: 'online', busy: false, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-carol'] });
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.0);
    await w.complete(w.gh.dispatches[2], 'runner-b', 2.5);
    expect(w.gh.dispatches.slice(3).map((d) => [d.inputs.role, d.inputs.runner_label])).toEqual([['baseline', 'owner-carol']]);
    await w.complete(w.gh.dispatches[3], 'runner-c', 2.01);
    expect(w.entries('baseline_recorded').map((b) => b.data.n)).toEqual([2]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
  });

  it('a baseline recorded by a handler that failed before judging the waiting PR: the tick judges the score the PR holds, it does not train again', async () => {
    // seed 1, 30 PRs, faults: PRs that waited for a baseline ran their candidate a second time on the same commits
    const w = new World({
      config: 'max_in_flight: 10\nbaseline_runs: 2\n',
      seed: [
        { type: 'runner_registered', data: { runner_name: 'runner-a', owner: 'alice', hardware_class: CLASS, labels: [] } },
        { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'bob', hardware_class: CLASS, labels: [] } },
      ],
    });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:waiting-baseline']);
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.0);
    // the handler that records the baseline fails on its next request (a 5xx)
    w.gh.faults.push({ method: 'GET', path: /\/actions\/runners$/, status: 502 });
    await expect(w.complete(w.gh.dispatches[2], 'runner-b', 2.02)).rejects.toThrow();
    expect(w.entries('baseline_recorded')).toHaveLength(1);
    await w.redeliver(); // finds the result recorded
    await w.tick();
    expect(w.gh.dispatches.slice(3).map((d) => [d.inputs.role, d.inputs.sha])).toEqual([['verify', head]]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(4);
  });
  it('a verify run that found no baseline on a newer default branch is the score judged once the baseline exists: the claim is not verified twice on that branch', async () => {
    // seed 1, 30 PRs, faults: a second "verify, attempt 1" of the same claim ran on the same default-branch commit
    const w = new World({ config: 'max_in_flight: 10\nbaseline_runs: 2\n' });
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const first = w.entries('job_dispatched')[1].data;
    expect(first).toMatchObject({ role: 'verify', attempt: 1 });
    w.gh.refs.set('heads/main', w.gh.commit({ 'docs/x.md': 'moved' }, w.main, 'another merge')); // no baseline on it yet
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.905);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:waiting-baseline']);
    const baselines = w.gh.dispatches.slice(2);
    expect(baselines.map((d) => d.inputs.role)).toEqual(['baseline', 'baseline']);
    await w.complete(baselines[0], 'runner-a', 2.0);
    await w.complete(baselines[1], 'runner-b', 2.02);
    const verifies = w.entries('job_dispatched').filter((j) => j.data.role === 'verify').map((j) => `${j.data.verifies}/${j.data.attempt}`);
    expect(verifies).toEqual([`${first.verifies}/1`, `${first.job_id}/1`]);
    expect(w.gh.dispatches.at(-1)!.inputs).toMatchObject({ role: 'verify', sha: head, runner_label: 'owner-alice' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
  });

  it('an open PR the ledger lost track of (its job closed, nothing queued, running or judged) is queued again by the tick, not left for ever', async () => {
    // seed 1, 30 PRs, faults: PRs whose job a process closed as a stray were open with no state for a day
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:verifying']);
    const job = w.entries('job_dispatched')[1].data;
    // the verify job closed as an older App version did when it misread a run as a stray
    const lost = { job_id: job.job_id, role: 'candidate' as const, pr: null, sha: w.main, title: null, author: null, runner_name: null, runner_owner: null, run_url: null, validated: false, reason: `no job was dispatched with nonce ${job.job_id}`, result: null, diff_path: null, diff_sha256: null, log_excerpt: null };
    w.seedLedger([...w.ledger().map((e) => ({ type: e.type, data: e.data }) as any), { type: 'result_recorded', data: lost }]);
    w.probot = w.makeProbot(); // a process that reads the ledger as it is now
    await w.tick();
    expect(w.entries('experiment_queued').map((e) => [e.data.pr, e.data.sha])).toEqual([[7, head]]);
    expect(w.gh.dispatches.map((d) => [d.inputs.role, d.inputs.sha])).toEqual([['candidate', head], ['verify', head], ['candidate', head]]);
    expect(w.entries('credit_spent')).toHaveLength(1); // the commit was paid for once
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(3);
    await w.complete(w.gh.dispatches[2], 'runner-a', 1.99);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
  });
});

describe('duplicates', () => {
  it('two App processes handling one pull_request delivery at once dispatch and charge once', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD }, 'opened', { processes: [w.probot, w.makeProbot()] });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('job_dispatched')).toHaveLength(1);
    expect(w.entries('credit_spent')).toHaveLength(1);
    // no check run is left "Running" by the process that lost
    expect(w.gh.checksOf(head).filter((c) => c.status !== 'completed')).toHaveLength(1);
  });

  it('a redelivery reaching a process with a stale view of the ledger dispatches and charges nothing twice', async () => {
    const w = new World({ config: 'max_in_flight: 5\n' });
    const a = w.probot;
    const b = w.makeProbot();
    w.probot = b;
    await w.push(8, 'other-agent', { 'trainer/train.ts': BETTER }); // b reads (and trusts) the ledger now
    w.probot = a;
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD }); // a appends PR 7's job
    await w.redeliver(b); // b's view predates it
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '7')).toHaveLength(1);
    expect(w.entries('credit_spent').filter((c) => c.data.reason.includes('#7') || w.entries('job_dispatched').find((j) => j.data.job_id === c.data.job_id)?.data.pr === 7)).toHaveLength(1);
  });
  it('a dispatch whose answer was lost after it landed (a timeout) is neither sent again by a redelivery nor by the tick', async () => {
    const w = new World();
    w.gh.faults.push({ method: 'POST', path: /\/dispatches$/, status: 0, timeout: true, landed: true });
    await expect(w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD })).rejects.toThrow();
    expect(w.gh.dispatches).toHaveLength(1);
    await w.redeliver();
    minutes(w, 16);
    await w.tick();
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('job_dispatched')).toHaveLength(1);
  });

  it('a run reported to a process whose view predates its dispatch is scored, not closed as a stray nonce', async () => {
    // seed 1, 30 PRs, faults: "no job was dispatched with nonce ..." closed a job another process had just dispatched;
    // its PR was left open with no job, no queue place and no final check for the rest of the run
    const w = new World({ config: 'max_in_flight: 5\n' });
    const a = w.probot;
    const b = w.makeProbot();
    w.probot = b;
    await w.push(8, 'other-agent', { 'trainer/train.ts': BETTER }); // b reads (and trusts) the ledger now
    w.probot = a;
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD }); // a dispatches PR 7's job
    const job = w.gh.dispatches.find((d) => d.inputs.pr === '7')!;
    await w.complete(job, 'runner-a', 1.99, { processes: [b] });
    expect(w.entries('result_recorded').map((r) => [r.data.job_id, r.data.pr, r.data.validated])).toEqual([[job.inputs.nonce, 7, true]]);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.gh.checksOf(head)).toEqual([expect.objectContaining({ status: 'completed', title: 'No improvement' })]);
  });

  it('a run naming a nonce no process dispatched is still recorded as a stray, once', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const job = w.gh.dispatches[0];
    await w.complete(job, 'runner-a', 1.99, { titleNonce: '0-0-0123456789abcdef01234567', deliveries: 2 });
    expect(w.entries('result_recorded').map((r) => [r.data.job_id, r.data.reason])).toEqual([['0-0-0123456789abcdef01234567', expect.stringMatching(/^no job was dispatched with nonce/)]]);
  });
});

describe('charged once per commit', () => {
  it('a verified PR re-queued because the default branch moved runs again at the swarm\'s cost, not its author\'s', async () => {
    // seed 1, 30 PRs, faults: eight PR commits were charged twice
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const ranOn = w.gh.refs.get('heads/main')!;
    w.gh.refs.set('heads/main', w.gh.commit({ 'docs/x.md': 'moved' }, ranOn, 'another merge'));
    await w.complete(w.gh.dispatches[1], 'runner-b', 1.9, { headSha: ranOn });
    expect(w.gh.dispatches[2].inputs).toMatchObject({ role: 'candidate', sha: head, pr: '7' });
    expect(w.entries('credit_spent').map((c) => c.data.job_id)).toEqual([w.gh.dispatches[0].inputs.nonce]);
    expect(w.entries('job_dispatched').at(-1)!.data).toMatchObject({ author: null, pr_author: 'octo-agent' });
  });
});

describe('a tick does all it can', () => {
  it('a failed request in one repair (listing the PRs) does not stop the deadlines: an overdue job is still run again', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.start(w.gh.dispatches[0], 'runner-a');
    minutes(w, 31);
    w.gh.faults.push({ method: 'GET', path: /\/pulls$/, status: 502 });
    await expect(w.tick()).rejects.toThrow(); // the delivery still fails, so it is redelivered
    expect(w.entries('result_recorded').map((r) => r.data.reason)).toEqual([expect.stringMatching(/^no result within 30 minutes/)]);
    expect(w.gh.dispatches.map((d) => d.inputs.pr)).toEqual(['7', '7']);
  });
});

describe('rate limits, with the production throttle settings', () => {
  const secondary = (n: number, retryAfter?: string) =>
    Array.from({ length: n }, () => ({
      method: 'POST',
      path: /\/check-runs$/,
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
      headers: (retryAfter ? { 'retry-after': retryAfter } : {}) as Record<string, string>,
    }));

  it('a secondary rate limit is waited out (retry-after, else a minute) and the request retried', async () => {
    const w = new World({ retries: true });
    w.gh.faults.push(...secondary(1, '30'), ...secondary(1));
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.faults).toEqual([]);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)).toHaveLength(1);
    expect(w.gh.dispatches).toHaveLength(1);
  });

  it('a dispatch refused after its job was recorded is sent again by the tick, as one new job, charged once', async () => {
    const w = new World({ retries: true });
    for (let k = 0; k < 4; k++) w.gh.faults.push({ ...secondary(1, '1')[0], path: /\/dispatches$/ });
    await expect(w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD })).rejects.toThrow(/secondary rate limit/);
    const [job] = w.entries('job_dispatched');
    expect(w.gh.dispatches).toEqual([]);
    minutes(w, 10);
    await w.tick(); // too early to call it lost
    expect(w.gh.dispatches).toEqual([]);
    minutes(w, 6);
    await w.tick();
    const [, again] = w.entries('job_dispatched');
    expect(w.entries('result_recorded').map((r) => [r.data.job_id, r.data.reason])).toEqual([[job.data.job_id, expect.stringMatching(/^its dispatch never reached GitHub/)]]);
    expect(again.data).toMatchObject({ pr: 7, sha: job.data.sha, role: 'candidate', attempt: 1, author: null });
    expect(w.gh.dispatches.map((d) => d.inputs.nonce)).toEqual([again.data.job_id]);
    expect(w.gh.dispatches[0].inputs).toMatchObject({ pr: '7', role: 'candidate', runner_label: 'autoresearch' });
    await w.tick(); // its run exists now: not sent a third time
    expect(w.gh.dispatches).toHaveLength(1);
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99);
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('credit_spent')).toHaveLength(1);
  });

  it('two processes handling one tick send a lost dispatch once: one run, not a twin that waits in its concurrency group and runs after', async () => {
    // seed 1, 30 PRs, faults: six baseline jobs ran twice, their dispatch re-sent by both processes
    const w = new World();
    w.gh.faults.push({ method: 'POST', path: /\/dispatches$/, status: 502 });
    await expect(w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD })).rejects.toThrow();
    expect(w.gh.dispatches).toEqual([]);
    const b = w.makeProbot();
    minutes(w, 10);
    await w.tick({ processes: [w.probot, b] }); // both warm now; too early to call the dispatch lost
    minutes(w, 6);
    await w.tick({ processes: [w.probot, b] });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('job_dispatched')).toHaveLength(2);
  });

  it('a rate limit that outlasts the retries loses nothing: the next tick runs the PR', async () => {
    const w = new World({ retries: true });
    w.gh.faults.push(...secondary(4, '1'));
    await expect(w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD })).rejects.toThrow(/secondary rate limit/);
    expect(w.gh.dispatches).toEqual([]);
    await w.tick();
    expect(w.gh.dispatches.map((d) => d.inputs.pr)).toEqual(['7']);
    expect(w.gh.checksOf(w.gh.pulls.get(7)!.head)).toEqual([expect.objectContaining({ status: 'in_progress' })]);
  });
});

// GitHub disables a public repository's scheduled workflows after 60 days without activity, the
// whole workflow (docs: "Disabling and enabling a workflow"), and says so to no one. A swarm that
// merged nothing for two months lost its clock: the reconcile pass that finishes a merge GitHub
// answered with a 5xx never ran again, and the merge stayed an intent. Now any event that reaches
// the scheduler reads the state of tick.yml and witness.yml (once an hour) and enables one that
// GitHub disabled for inactivity; one an administrator disabled stays disabled.
describe("the App's clock", () => {
  it('a tick disabled by GitHub for inactivity is enabled again by the next event, and finishes a merge left as an intent', async () => {
    const w = new World();
    w.gh.workflowStates.set('tick.yml', 'disabled_inactivity');
    expect(await w.tick()).toBe(false); // the schedule does not fire
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    w.gh.faults.push({ method: 'PUT', path: /\/pulls\/7\/merge$/, status: 502 });
    await expect(w.complete(w.gh.dispatches[1], 'runner-b', 1.905)).rejects.toThrow();
    expect(w.gh.merges).toEqual([]);
    minutes(w, 3);
    expect(await w.tick()).toBe(true);
    expect(w.gh.merges.map((m) => m.sha)).toEqual([head]);
    expect(w.entries('experiment_merged')).toHaveLength(1);
  });

  it('leaves a tick an administrator disabled as it is, and asks GitHub again after a 5xx', async () => {
    const w = new World();
    w.gh.workflowStates.set('tick.yml', 'disabled_manually');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.workflowStates.get('tick.yml')).toBe('disabled_manually');
    expect(await w.tick()).toBe(false);
    // a read that failed is not remembered as done: the next event reads again
    const w2 = new World();
    w2.gh.workflowStates.set('tick.yml', 'disabled_inactivity');
    w2.gh.faults.push({ method: 'GET', path: /\/actions\/workflows$/, status: 503 });
    await w2.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w2.gh.workflowStates.get('tick.yml')).toBe('disabled_inactivity');
    await w2.push(8, 'octo-agent', { 'trainer/train.ts': BETTER });
    expect(w2.gh.fires('tick.yml')).toBe(true);
  });
});
