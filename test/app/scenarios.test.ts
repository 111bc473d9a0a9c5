import { describe, it, expect, afterEach } from '@jest/globals';
import nock from 'nock';
import { expectRealGitHubCalls, recordedCalls } from '../helpers/openapi.js';
import { World, CLASS } from './world.js';

const GOOD = 'export const LR = 6e-4;\n// a better schedule\n';

afterEach(() => {
  expectRealGitHubCalls();
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('validate and dispatch', () => {
  it('a valid PR is labelled, commented, given a check run and dispatched from the default branch', async () => {
    const w = new World();
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': GOOD });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:running']);
    const [comment] = w.gh.stickyOf(7);
    expect(comment).toMatch(/^<!-- autoresearch:sticky -->\n### Experiment running/);
    const [check] = w.gh.checksOf(head);
    expect(check).toMatchObject({ status: 'in_progress', title: 'Running' });
    expect(w.gh.dispatches).toHaveLength(1);
    const d = w.gh.dispatches[0];
    expect(d).toMatchObject({ workflow: 'experiment.yml', ref: 'main', inputs: { pr: '7', sha: head, role: 'candidate', budget: '300', runner_label: 'autoresearch' } });
    const [job] = w.entries('job_dispatched');
    expect(job.data).toMatchObject({ job_id: d.inputs.nonce, role: 'candidate', pr: 7, sha: head, author: 'octo-agent', eval_seed: Number(d.inputs.eval_seed), attempt: 1 });
    expect(w.entries('credit_spent')[0].data).toMatchObject({ login: 'octo-agent', amount: 0, reason: 'free_tier', job_id: d.inputs.nonce });
    console.log(recordedCalls());
  });
});
