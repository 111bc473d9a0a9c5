import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import nock from 'nock';
import { Octokit } from '@octokit/rest';
import { checkOperation, checkResponse, gitHubApi, expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';

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

describe('stricter: the limits GitHub states, in the description or in words', () => {
  // Each of these was accepted by the request check before it read constraints and documented rules.
  it('rejects per_page above 100, non-base64 contents, a short merge sha and a completed check without a conclusion', () => {
    expect(checkOperation('GET', '/repos/o/r/pulls?per_page=5000')).toMatch(/per_page is 5000; GitHub serves 1 to 100/);
    expect(checkOperation('PUT', '/repos/o/r/contents/a.txt', JSON.stringify({ message: 'm', content: 'not base64!' }))).toMatch(/content is not Base64/);
    expect(checkOperation('PUT', '/repos/o/r/pulls/1/merge', JSON.stringify({ sha: 'short' }))).toMatch(/"short" is not a 40-hex-digit head SHA/);
    expect(checkOperation('POST', '/repos/o/r/check-runs', JSON.stringify({ name: 'x', head_sha: 'a'.repeat(40), status: 'completed' }))).toMatch(/needs a conclusion/);
    expect(checkOperation('PATCH', '/repos/o/r/check-runs/5', JSON.stringify({ status: 'completed' }))).toMatch(/needs a conclusion/);
    expect(checkOperation('POST', '/repos/o/r/check-runs', JSON.stringify({ name: 'x', head_sha: 'a', output: { title: 't', summary: 'x'.repeat(70_000) } }))).toMatch(/over the maximum 65535/);
    expect(checkOperation('POST', '/repos/o/r/issues/1/comments', JSON.stringify({ body: 'x'.repeat(70_000) }))).toMatch(/limit for a comment is 65536/);
  });

  it('checks answers: an undeclared status and a body missing required fields are named', () => {
    expect(checkResponse('GET', '/repos/o/r/pulls/1', 201, {})).toMatch(/lists 200, 304, 404, 406, 500, 503/);
    expect(checkResponse('POST', '/repos/o/r/check-runs', 201, { id: 1 })).toMatch(/response\.head_sha is required/);
    // what every operation may answer: a rate limit (with its headers), 304, an outage
    expect(checkResponse('POST', '/repos/o/r/check-runs', 403, { message: 'secondary' }, { 'retry-after': '60' })).toBeNull();
    expect(checkResponse('POST', '/repos/o/r/check-runs', 502, { message: 'x' })).toBeNull();
  });
});
