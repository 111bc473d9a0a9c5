import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import nock from 'nock';
import { Octokit } from '@octokit/rest';
import { checkOperation, gitHubApi, expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';

describe('openapi helper', () => {
  beforeEach(() => {
    nock.disableNetConnect();
    resetRecordedCalls();
  });
  afterEach(() => nock.cleanAll());

  it('accepts real operations with valid parameters and bodies', () => {
    expect(checkOperation('GET', '/repos/o/r/pulls/12/files?per_page=100')).toBeNull();
    expect(checkOperation('POST', '/repos/o/r/actions/workflows/experiment.yml/dispatches', JSON.stringify({ ref: 'main', inputs: { pr: '1' } }))).toBeNull();
    expect(checkOperation('GET', '/repos/o/r/contents/.github%2Fautoresearch.yml')).toBeNull();
    expect(checkOperation('PATCH', '/repos/o/r/git/refs/heads/ledger', JSON.stringify({ sha: 'a'.repeat(40) }))).toBeNull();
  });

  it('names what is wrong with a request that GitHub would not accept', () => {
    expect(checkOperation('GET', '/repos/o/r/pull/12')).toMatch(/not an operation/);
    expect(checkOperation('GET', '/repos/o/r/pulls/twelve')).toMatch(/pull_number is string/);
    expect(checkOperation('GET', '/repos/o/r/pulls/12?colour=red')).toMatch(/query parameter colour/);
    expect(checkOperation('POST', '/repos/o/r/actions/workflows/x.yml/dispatches', JSON.stringify({ inputs: {} }))).toMatch(/body.ref is required/);
    expect(checkOperation('PUT', '/repos/o/r/pulls/1/merge', JSON.stringify({ merge_method: 'fast' }))).toMatch(/merge_method/);
    expect(checkOperation('POST', '/repos/o/r/check-runs', JSON.stringify({ name: 'x', head_sha: 'a', colour: 1 }))).toMatch(/colour is not a field/);
  });

  it('checks and counts requests made through a gitHubApi() scope', async () => {
    gitHubApi().get('/repos/o/r/pulls/1').reply(200, {}).get('/repos/o/r/pulls/1/labelz').reply(200, []);
    const octokit = new Octokit({ request: { retries: 0 } });
    await octokit.rest.pulls.get({ owner: 'o', repo: 'r', pull_number: 1 });
    await octokit.request('GET /repos/o/r/pulls/1/labelz');
    expect(recordedCalls()).toEqual(['GET /repos/{owner}/{repo}/pulls/{pull_number}', 'GET /repos/o/r/pulls/1/labelz']);
    expect(() => expectRealGitHubCalls()).toThrow(/labelz is not an operation/);
    expect(nock.pendingMocks()).toEqual([]);
  });
});
