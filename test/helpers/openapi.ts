/**
 * Checks that every nock-mocked GitHub request is a real operation of GitHub's REST description
 * (`@octokit/openapi`, api.github.com): the method and path exist, path parameters are valid for
 * their schema, query parameters are declared, and JSON body fields are declared, present when
 * required and of the declared type.
 *
 * Use:
 * ```ts
 * import { gitHubApi, expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
 * beforeEach(() => { nock.disableNetConnect(); resetRecordedCalls(); });
 * const api = gitHubApi()                       // = nock('https://api.github.com') + the checks
 *   .get('/repos/o/r/pulls/1').reply(200, {...});
 * ... run the code under test ...
 * expectRealGitHubCalls();   // throws naming every request that is not a real operation
 * expect(nock.pendingMocks()).toEqual([]);
 * recordedCalls();           // ['GET /repos/{owner}/{repo}/pulls/{pull_number}', ...] since the reset
 * ```
 * `checkOperation(method, url, body)` is the same check for one request, without nock, and
 * `checkResponse(method, url, status, body, headers)` checks an answer (the checks themselves live
 * in sim/github/openapi.ts, shared with the simulator's in-process GitHub).
 */
import { afterAll } from '@jest/globals';
import nock from 'nock';
import { checkOperation, checkResponse, findOperation } from '../../sim/github/openapi.js';

export { checkOperation, checkResponse };

// Jest gives each test file its own nock module, but they share one process-wide fetch: a nock
// left active by an earlier file in the same worker would swallow this file's requests
// ("Disallowed net connect"). Every file that imports this helper hands fetch back at its end.
afterAll(() => {
  nock.cleanAll();
  nock.restore();
});

let problems: string[] = [];
let calls: string[] = [];

/** `nock('https://api.github.com')` whose matched requests are checked against the description and counted. */
export function gitHubApi(options?: nock.Options): nock.Scope {
  const scope = nock('https://api.github.com', options);
  scope.on('request', (req: Request, _interceptor: unknown, body: string) => recordCall(req.method, req.url, body));
  return scope;
}

/** Records a problem found outside a scope's request check (an answer of the fake that GitHub would not give). */
export function recordProblem(problem: string): void {
  problems.push(problem);
}

/** Counts a call answered outside a `gitHubApi()` scope's own interceptors. */
export function recordCall(method: string, url: string, bodyText?: string): void {
  const problem = checkOperation(method, url, bodyText);
  if (problem) problems.push(problem);
  const u = new URL(url, 'https://api.github.com');
  const found = findOperation(method.toUpperCase(), u.pathname);
  calls.push(found ? `${found.op.method} ${found.op.template}` : `${method.toUpperCase()} ${u.pathname}`);
}

/** Throws one error listing every request made through `gitHubApi()` scopes that is not a real operation. */
export function expectRealGitHubCalls(): void {
  const found = problems;
  problems = [];
  if (found.length) throw new Error(`Mocked GitHub requests that GitHub's REST description does not allow:\n- ${found.join('\n- ')}`);
}

/** Requests answered by `gitHubApi()` scopes since the last reset, as "METHOD /template". */
export function recordedCalls(): string[] {
  return [...calls];
}

export function resetRecordedCalls(): void {
  calls = [];
  problems = [];
}
