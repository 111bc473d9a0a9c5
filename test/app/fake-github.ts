// The faked GitHub of the scenario tests: the simulator's transport-agnostic fake
// (sim/github/fake.ts) served through nock, on the shared `gitHubApi()` scope, so every request
// is checked against GitHub's REST description and counted, and every answer is checked too
// (a status the operation declares, a body of the declared shape). Scenarios assert on what a
// user would see: labels, the sticky comment, the check run, dispatched workflows, merges, and
// the ledger branch the App wrote.
import nock from 'nock';
import { FakeGitHub as Core, type FakeOptions } from '../../sim/github/fake.js';
import { checkResponse, gitHubApi, recordProblem } from '../helpers/openapi.js';

export { APP_BOT, APP_SLUG, OWNER, REPO, type Fault, type Pull, type CheckRun, type Runner, type RunArtifacts } from '../../sim/github/fake.js';

const HOSTS = ['https://codeload.github.com', 'https://pipelinesghubeus2.actions.githubusercontent.com'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export class FakeGitHub extends Core {
  constructor(opts: FakeOptions = {}) {
    super(opts);
    serveThroughNock(this);
  }
}

/** Serves `gh` on nock: api.github.com through `gitHubApi()` (checked, counted), the download hosts plainly. */
export function serveThroughNock(gh: Core): void {
  const reply = (api: boolean) => async (req: Request) => {
    const text = await req.clone().text();
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    const res = gh.handle({ method: req.method, url: req.url, headers, body: text || undefined });
    if (res.timeout) throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    if (api) {
      const problem = checkResponse(req.method, req.url, res.status, res.body, res.headers);
      if (problem) recordProblem(`the fake answered what GitHub would not: ${problem}`);
    }
    const body = res.body instanceof Uint8Array ? Buffer.from(res.body) : res.body;
    return [res.status, body as any, res.headers] as [number, any, Record<string, string>];
  };
  const api = gitHubApi().persist();
  for (const m of METHODS) api.intercept(() => true, m).optionally().reply(reply(true));
  for (const host of HOSTS) {
    const scope = nock(host).persist();
    for (const m of METHODS) scope.intercept(() => true, m).optionally().reply(reply(false));
  }
}
