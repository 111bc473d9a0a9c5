// Hostile runners against the real App with GitHub faked: each attack of issue 11 as a scenario.
// Every test here failed against the App before its defence (see the commit messages).
import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls } from '../helpers/openapi.js';
import { World, CLASS } from './world.js';
import { auditLedger } from '../../ledger/index.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';
const OTHER = 'export const LR = 1e-3;\n';

afterEach(() => {
  const audit = auditLedger(World.last!.ledger(), { freeRunsPerDay: 3 });
  expect(audit.ok ? 'ok' : `seq ${audit.seq}: ${audit.problem}`).toBe('ok');
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('a result is bound to the run it came from', () => {
  it('job hijack: an artifact named for another job rejects the uploader\'s own job, never the victim\'s', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.push(8, 'mallory', { 'trainer/train.ts': OTHER });
    const [victim, own] = w.gh.dispatches;
    // mallory's runner ran PR 8's job but uploads `result-<PR 7's nonce>`
    await w.complete(own, 'runner-b', 2.5, { artifactName: `result-${victim.inputs.nonce}` });
    const recs = w.entries('result_recorded');
    expect(recs.map((r) => r.data.job_id)).toEqual([own.inputs.nonce]);
    expect(recs[0].data).toMatchObject({ validated: false, runner_owner: 'bob', reason: expect.stringMatching(/result-.* instead of result-/) });
    expect(w.gh.dispatches[2].inputs).toMatchObject({ pr: '8', role: 'candidate' });
    // the victim's job is untouched: its honest result is scored and credited
    await w.complete(victim, 'runner-a', 1.99);
    const mine = w.entries('result_recorded').find((r) => r.data.job_id === victim.inputs.nonce)!;
    expect(mine.data).toMatchObject({ validated: true, runner_owner: 'alice' });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:discarded']);
    expect(w.entries('credit_granted').map((g) => g.data.login)).toEqual(['alice']);
  });

  it('a run whose title names a nonce the App never dispatched is recorded with the reason and harms no job', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    const d = w.gh.dispatches[0];
    const stray = '1-1-' + 'e'.repeat(24);
    await w.complete(d, 'runner-a', 1.5, { titleNonce: stray });
    const [rec] = w.entries('result_recorded');
    expect(rec.data).toMatchObject({ job_id: stray, validated: false, reason: expect.stringMatching(/no job was dispatched with nonce/) });
    expect(w.entries('result_recorded').some((r) => r.data.job_id === d.inputs.nonce)).toBe(false);
  });

  it('padded credits: a budget other than the dispatch\'s is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { jobSeconds: 1250, tamper: (r) => Object.assign(r, { budget_seconds: 1200, train_seconds: 1190 }) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/budget_seconds 1200 differs from the dispatched budget 300/) });
    expect(w.entries('credit_granted')).toEqual([]);
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });

  it('padded credits: a runner is credited at most the dispatched budget, even when the job ran longer', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.99, { jobSeconds: 1250, tamper: (r) => (r.train_seconds = 1190) });
    expect(w.entries('credit_granted')[0].data).toMatchObject({ login: 'alice', train_seconds: 300, amount: 300 });
  });

  it('an eval seed other than the dispatch\'s is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper: (r) => (r.eval_seed = 12345) });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/eval_seed 12345 differs/) });
    expect(w.gh.merges).toEqual([]);
  });

  it('class liar: a result whose class differs from its runner\'s registered class is rejected', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { tamper: (r) => (r.hardware_class = 'gpu-h100-80gb') });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/gpu-h100-80gb is not the class gpu-test its runner was registered with/) });
    expect(w.entries('job_dispatched').filter((j) => j.data.role === 'baseline')).toEqual([]);
  });
});

describe('bad input is recorded with a reason, never a crash, and the job runs again', () => {
  it('a run on a runner no registration records', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-zed', 1.5);
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, runner_name: 'runner-zed', runner_owner: null, reason: expect.stringMatching(/runner-zed.*not registered/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
    expect(w.entries('credit_granted')).toEqual([]);
  });

  it('an oversized artifact is refused without downloading it', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { artifactBytes: 2 ** 30 });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/is 1073741824 bytes, over the limit/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });

  it('a malformed result.json', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.5, { files: { 'result.json': '{"val_bpb": 0.1, ' } });
    expect(w.entries('result_recorded')[0].data).toMatchObject({ validated: false, reason: expect.stringMatching(/result\.json/) });
    expect(w.gh.dispatches[1].inputs).toMatchObject({ pr: '7', role: 'candidate' });
  });
});
