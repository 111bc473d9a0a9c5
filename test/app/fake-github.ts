// The faked GitHub of the scenario tests: the simulator's transport-agnostic fake
// (sim/github/fake.ts) served through nock, on the shared `gitHubApi()` scope, so every request
// is checked against GitHub's REST description and counted, and every answer is checked too
// (a status the operation declares, a body of the declared shape). Scenarios assert on what a
// user would see: labels, the sticky comment, the check run, dispatched workflows, merges, and
// the ledger branch the App wrote.
import { createHash } from 'node:crypto';
import nock from 'nock';
import { FakeGitHub as Core, type FakeOptions, type FakeRequest, type FakeResponse } from '../../sim/github/fake.js';
import { checkResponse, gitHubApi, recordProblem } from '../helpers/openapi.js';

export { APP_BOT, APP_SLUG, OWNER, REPO, userIdOf, type Fault, type Pull, type CheckRun, type Runner, type RunArtifacts } from '../../sim/github/fake.js';

const HOSTS = ['https://codeload.github.com', 'https://pipelinesghubeus2.actions.githubusercontent.com'];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The App's OAuth client as GitHub knows it (GET /app's client_id) and its client secret. */
export const APP_CLIENT = { clientId: 'Iv1.0', clientSecret: 'fake-app-client-secret' };

export class FakeGitHub extends Core {
  /**
   * User tokens GitHub issued, and to which OAuth client (this App's, another App's, an OAuth
   * app's): GET /user answers for each whoever holds it; "Check a token" only to its own client.
   */
  readonly userTokens = new Map<string, { login: string; clientId: string }>();

  constructor(opts: FakeOptions = {}) {
    super(opts);
    serveThroughNock(this);
  }

  /** A token GitHub issued `login` for the OAuth client `clientId` (default: this App's, as `runner join`'s device flow gets). */
  issueToken(login: string, clientId = APP_CLIENT.clientId): string {
    const token = `${clientId.startsWith('Iv') ? 'ghu' : 'gho'}_${createHash('sha256').update(`${login} ${clientId} ${this.userTokens.size}`).digest('hex').slice(0, 36)}`;
    this.userTokens.set(token, { login, clientId });
    return token;
  }

  override handle(req: FakeRequest): FakeResponse {
    const url = new URL(req.url);
    const faulted = this.faults.some((f) => f.method === req.method.toUpperCase() && f.path.test(url.pathname) && (!f.when || f.when()));
    const check = /^\/applications\/([^/]+)\/token$/.exec(url.pathname);
    if (check && req.method.toUpperCase() === 'POST' && !faulted) return this.checkToken(decodeURIComponent(check[1]), req);
    // an issued token is the core's `gho_<login>` for GET /user
    const auth = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    const issued = this.userTokens.get(/^(?:bearer|token)\s+(\S+)$/i.exec(auth)?.[1] ?? '');
    return super.handle(issued ? { ...req, headers: { ...req.headers, authorization: `token gho_${issued.login}` } } : req);
  }

  /**
   * GitHub's "Check a token" (POST /applications/{client_id}/token): HTTP Basic with the client's
   * id and secret; 200 with the token's user only for a token issued to that client, 404 for any
   * other token or wrong client credentials (GitHub hides what it does not show), 422 without one.
   */
  private checkToken(clientId: string, req: FakeRequest): FakeResponse {
    const notFound = { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/apps/oauth-applications#check-a-token' }, headers: {} };
    const auth = Object.entries(req.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    const basic = /^basic\s+(\S+)$/i.exec(auth)?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    if (clientId !== APP_CLIENT.clientId || id !== APP_CLIENT.clientId || secret !== APP_CLIENT.clientSecret) return notFound;
    let token: unknown;
    try {
      token = (JSON.parse(req.body ?? '{}') as { access_token?: unknown }).access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) return { status: 422, body: { message: 'Validation Failed', documentation_url: 'https://docs.github.com/rest/apps/oauth-applications#check-a-token' }, headers: {} };
    const issued = this.userTokens.get(token);
    if (!issued || issued.clientId !== clientId) return notFound;
    const at = new Date(this.now()).toISOString();
    const u = `https://api.github.com/users/${issued.login}`;
    const user = {
      login: issued.login, id: Math.abs(hashOf(issued.login)), node_id: `U_${issued.login}`, avatar_url: '', gravatar_id: '', url: u, html_url: `https://github.com/${issued.login}`,
      followers_url: `${u}/followers`, following_url: `${u}/following{/other_user}`, gists_url: `${u}/gists{/gist_id}`, starred_url: `${u}/starred{/owner}{/repo}`, subscriptions_url: `${u}/subscriptions`,
      organizations_url: `${u}/orgs`, repos_url: `${u}/repos`, events_url: `${u}/events{/privacy}`, received_events_url: `${u}/received_events`, type: 'User', site_admin: false,
    };
    const body = {
      id: 1, url: 'https://api.github.com/authorizations/1', scopes: [], token, token_last_eight: token.slice(-8), hashed_token: createHash('sha256').update(token).digest('hex'),
      app: { client_id: clientId, name: 'autoresearch-swarm', url: 'https://github.com/apps/autoresearch-swarm' }, note: null, note_url: null, fingerprint: null,
      created_at: at, updated_at: at, expires_at: null, user,
    };
    return { status: 200, body, headers: { 'content-type': 'application/json; charset=utf-8' } };
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

/** The core fake's account id of a login (sim/github/fake.ts userJson), so both answers name one account. */
function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return h;
}
