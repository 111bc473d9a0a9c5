import { describe, it, expect, afterEach, beforeEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { World, CLASS } from './world.js';
import { form, fund } from './long-run-helpers.js';
import { auditLedger, computeBalances } from '../../ledger/index.js';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseLongRunForm, longRunRefusal, LONG_RUN_BUDGETS, LONG_RUN_FIELDS, LONG_RUN_LABELS } from '../../app/policy/long-run.js';

beforeEach(() => {
  World.last = null;
});

afterEach(() => {
  if (!World.last) return; // the pure tests start no world
  const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('the long-run form', () => {
  it('reads the fields the issue template really has', () => {
    const t = parse(readFileSync('.github/ISSUE_TEMPLATE/long-run.yml', 'utf8'));
    const fields = Object.fromEntries(t.body.filter((b: any) => b.type !== 'markdown').map((b: any) => [b.id, b]));
    expect(Object.fromEntries(Object.entries(fields).map(([id, b]: [string, any]) => [id, b.attributes.label]))).toEqual(LONG_RUN_FIELDS);
    expect(fields.budget.attributes.options).toEqual(Object.keys(LONG_RUN_BUDGETS));
    expect(t.labels).toEqual([LONG_RUN_LABELS.requested]);
  });

  it('parses a filled form', () => {
    expect(parseLongRunForm(form({ hardware_class: 'gpu-test', budget: '2 hours' }))).toEqual({
      ok: true,
      request: { target: { kind: 'pr', pr: 7 }, budget_seconds: 7200, hardware_class: 'gpu-test', max_credits: 5000, why: 'See whether the gain holds at 6x the steps.' },
    });
    expect(parseLongRunForm(form({ target: 'ABCDEF1' }))).toMatchObject({ ok: true, request: { target: { kind: 'commit', sha: 'abcdef1' }, hardware_class: null } });
  });
  it('names the one field that is wrong', () => {
    expect(parseLongRunForm(form({ target: 'main' }))).toEqual({ ok: false, problem: expect.stringMatching(/^\*\*What to run\*\*: "main" is neither a PR number/) });
    expect(parseLongRunForm(form({ budget: '3 days' }))).toEqual({ ok: false, problem: expect.stringMatching(/^\*\*Training budget\*\*: "3 days" is not one of "30 minutes"/) });
    expect(parseLongRunForm(form({ max_credits: 'lots' }))).toEqual({ ok: false, problem: expect.stringMatching(/^\*\*Most credits to spend\*\*: "lots" is not a positive number/) });
    expect(parseLongRunForm(form({ hardware_class: 'a b' }))).toMatchObject({ ok: false, problem: expect.stringMatching(/^\*\*Hardware class\*\*/) });
    expect(parseLongRunForm(form({ why: '' }))).toMatchObject({ ok: false, problem: expect.stringMatching(/^\*\*Why\*\*/) });
    expect(parseLongRunForm(form({ terms: false }))).toMatchObject({ ok: false, problem: expect.stringMatching(/^\*\*Terms\*\*/) });
    expect(parseLongRunForm('Please run #7 for an hour')).toMatchObject({ ok: false, problem: expect.stringMatching(/^\*\*What to run\*\*: the issue has no "### What to run" section/) });
  });
  it('refuses with the numbers', () => {
    expect(longRunRefusal('carol', 100, 1800, 5000)).toBe('@carol has 100 credits and the run costs 1800 (1700 short); earn credits by running a runner for the swarm, or pick a shorter budget.');
    expect(longRunRefusal('carol', 9000, 3600, 2000)).toMatch(/costs 3600 credits, more than the most you would spend \(2000\)/);
    expect(longRunRefusal('carol', 1800, 1800, 1800)).toBeNull();
  });
});

describe('draw on the swarm', () => {
  it('a funded request for a PR head is dispatched, paid in one ledger commit, commented and labelled; its result is recorded and merges nothing', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    const before = w.gh.dispatches.length;
    const ledgerCommits = () => { let n = 0; for (let c = w.gh.refs.get('heads/ledger'); c; c = w.gh.commits.get(c)!.parents[0]) n++; return n; };
    const commitsBefore = ledgerCommits();

    await w.openIssue(40, 'alice', form({ target: '#7', budget: '30 minutes', hardware_class: CLASS, max_credits: '1800' }));

    expect(w.gh.dispatches).toHaveLength(before + 1);
    const d = w.gh.dispatches[before];
    expect(d).toMatchObject({ workflow: 'experiment.yml', ref: 'refs/heads/main', inputs: { pr: '7', sha: head, role: 'candidate', budget: '1800', runner_label: CLASS } });
    expect(ledgerCommits()).toBe(commitsBefore + 1);
    const job = w.entries('job_dispatched').at(-1)!;
    expect(job.data).toMatchObject({ job_id: d.inputs.nonce, role: 'candidate', pr: 7, sha: head, author: 'alice', hardware_class: CLASS, budget_seconds: 1800, attempt: 1 });
    const spent = w.entries('credit_spent').at(-1)!;
    expect(spent.data).toEqual({ login: 'alice', amount: 1800, job_id: d.inputs.nonce, reason: 'long run requested in issue #40' });
    expect(spent.seq).toBe(job.seq + 1);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(200);
    const [comment] = w.gh.stickyOf(40);
    expect(comment).toContain('### Long run scheduled');
    expect(comment).toContain(`\`${head.slice(0, 7)}\` (head of #7) was dispatched for 1800 s of training on a \`gpu-test\` runner.`);
    expect(comment).toContain('@alice paid 1800 credits (balance 2000 → 200)');
    expect(w.gh.issues.get(40)!.labels).toEqual(['long-run:requested', 'long-run:scheduled']);

    // the result: a "big improvement" from a long run is recorded and credited, never verified or merged
    const dispatched = w.gh.dispatches.length;
    await w.complete(d, 'runner-b', 1.5);
    const result = w.entries('result_recorded').find((e) => e.data.job_id === d.inputs.nonce)!;
    expect(result.data).toMatchObject({ validated: true, role: 'candidate', pr: 7, runner_owner: 'bob' });
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('verification')).toEqual([]);
    expect(w.entries('experiment_discarded')).toEqual([]);
    expect(w.gh.dispatches).toHaveLength(dispatched);
    expect(w.gh.labelsOf(7)).toEqual([]); // the PR's own experiment is untouched: still running, no label
    expect(w.entries('credit_granted').at(-1)!.data).toMatchObject({ login: 'bob', job_id: d.inputs.nonce, amount: 300 });
    const done = w.gh.stickyOf(40).at(-1)!;
    expect(done).toContain('### Long run finished: val_bpb 1.5000');
    expect(done).toContain('runner-b (owner bob)');
  });

  it('a funded request for a default-branch commit runs as a baseline-role job whose score is no baseline', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    await w.openIssue(41, 'alice', form({ target: w.main.slice(0, 10) }));
    const d = w.gh.dispatches.at(-1)!;
    expect(d.inputs).toMatchObject({ pr: '', sha: w.main, role: 'baseline', budget: '1800', runner_label: 'autoresearch' });
    expect(w.gh.issues.get(41)!.labels).toEqual(['long-run:requested', 'long-run:scheduled']);
    const baselines = w.entries('baseline_recorded').length;
    await w.complete(d, 'runner-a', 1.7);
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ job_id: d.inputs.nonce, validated: true, role: 'baseline' });
    expect(w.entries('baseline_recorded')).toHaveLength(baselines);
    expect(w.gh.stickyOf(41).at(-1)).toContain('### Long run finished: val_bpb 1.7000');
  });

  it('insufficient balance is refused with the numbers, and nothing is dispatched or recorded', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    const before = w.ledger().length;
    await w.openIssue(42, 'alice', form({ target: w.main, budget: '1 hour' }));
    expect(w.gh.dispatches).toEqual([]);
    expect(w.ledger()).toHaveLength(before);
    const [comment] = w.gh.stickyOf(42);
    expect(comment).toContain('### Long run refused');
    expect(comment).toContain('Not scheduled: @alice has 2000 credits and the run costs 3600 (1600 short)');
    expect(w.gh.issues.get(42)!.labels).toEqual(['long-run:requested', 'long-run:refused']);
  });

  it('a malformed form is refused naming the field; a commit off the default branch too', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    await w.openIssue(43, 'alice', form({ max_credits: 'all of them' }));
    expect(w.gh.stickyOf(43)[0]).toContain('Not scheduled: **Most credits to spend**: "all of them" is not a positive number of credits');
    expect(w.gh.issues.get(43)!.labels).toEqual(['long-run:requested', 'long-run:refused']);
    const side = w.gh.commit({ 'trainer/train.ts': 'x' }, w.main, 'elsewhere');
    await w.openIssue(44, 'alice', form({ target: side }));
    expect(w.gh.stickyOf(44)[0]).toContain(`**What to run**: \`${side}\` is not a commit of \`main\``);
    await w.openIssue(50, 'alice', form({ target: w.main, hardware_class: 'gpu-b200' }));
    expect(w.gh.stickyOf(50)[0]).toContain('**Hardware class**: no runner of the swarm has class `gpu-b200` (classes: `gpu-test`)');
    await w.openIssue(45, 'alice', form({ target: '#99' }));
    expect(w.gh.stickyOf(45)[0]).toContain('**What to run**: #99 is not a pull request of Codertocat/Hello-World.');
    expect(w.gh.dispatches).toEqual([]);
  });

  it('redelivery, and the labeled event that comes with a form, dispatch once', async () => {
    const w = new World();
    fund(w, 'runner-a', 9000); // enough for several runs: only the ledger's record stops a second one
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    const before = w.gh.dispatches.length;
    await w.openIssue(46, 'alice', form({}), { deliveries: 2 });
    await w.openIssue(46, 'alice', form({}), { action: 'labeled' });
    // a second App process, with its own cached ledger head, gets the same delivery
    w.probot = w.makeProbot();
    await w.openIssue(46, 'alice', form({}));
    expect(w.gh.dispatches).toHaveLength(before + 1);
    expect(w.entries('credit_spent').filter((e) => e.data.reason === 'long run requested in issue #46')).toHaveLength(1);
    expect(w.gh.stickyOf(46)).toHaveLength(1);
    expect(w.gh.stickyOf(46)[0]).toContain('### Long run scheduled');
    expect(w.gh.issues.get(46)!.labels).toEqual(['long-run:requested', 'long-run:scheduled']);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(7200);
  });

  it('a long run is not re-dispatched at the experiment deadline; past its own it is closed and the issue told', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    await w.openIssue(49, 'alice', form({ target: w.main }));
    const d = w.gh.dispatches.at(-1)!;
    const start = w.clock.getTime();
    await w.start(d, 'runner-a');
    w.clock = new Date(start + 31 * 60_000); // past deadline_minutes (30), within 30 + 25 extra
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n' });
    await w.tick();
    expect(w.entries('result_recorded').filter((e) => e.data.job_id === d.inputs.nonce)).toEqual([]);
    w.clock = new Date(start + 56 * 60_000);
    await w.push(8, 'octo-agent', { 'trainer/train.ts': 'export const LR = 7e-4;\n' });
    await w.tick();
    expect(w.entries('result_recorded').find((e) => e.data.job_id === d.inputs.nonce)!.data).toMatchObject({ validated: false, reason: 'no result within 55 minutes of its start on runner-a (attempt 1)' });
    expect(w.gh.dispatches.filter((x) => x.inputs.budget === '1800')).toHaveLength(1);
    expect(w.gh.stickyOf(49).at(-1)).toContain(`### Long run timed out\nNo runner reported a result for job \`${d.inputs.nonce}\` within 55 minutes`);
  });

  it('two App processes serving two requests at once never overdraw: the second is refused on the chain it appends to', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    const [p1, p2] = [w.makeProbot(), w.makeProbot()];
    // both read a balance of 2000 before either appends; the ledger store rebuilds the second on the moved chain
    await Promise.all([w.openIssue(47, 'alice', form({ target: w.main }), { processes: [p1] }), w.openIssue(48, 'alice', form({ target: w.main }), { processes: [p2] })]);
    expect(w.gh.dispatches).toHaveLength(1);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(200);
    const labels = [w.gh.issues.get(47)!.labels.at(-1), w.gh.issues.get(48)!.labels.at(-1)].sort();
    expect(labels).toEqual(['long-run:refused', 'long-run:scheduled']);
    const refused = w.gh.issues.get(47)!.labels.includes('long-run:refused') ? 47 : 48;
    expect(w.gh.stickyOf(refused)[0]).toContain('@alice has 200 credits and the run costs 1800 (1600 short)');
  });
});
