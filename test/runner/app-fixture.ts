// The App side for runner tests: a real Probot instance with the runner route registered through
// registerRunnerRoutes, served on loopback, and nock mocks of the GitHub calls it makes (each
// checked against GitHub's OpenAPI description by test/helpers/openapi.ts).
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Probot, ProbotOctokit } from 'probot';
import { gitHubApi } from '../helpers/openapi.js';
import { registerRunnerRoutes, type OwnerRateLimiter } from '../../app/routes/runners.js';
import type { LedgerStore } from '../../ledger/index.js';
import { listen, type Loopback } from './fakes.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

export const SECRET_JIT = 'eyJ.aGVsbG8.the-runner-credential';
/** a user token GitHub issued to the App (its device flow): the only kind the route accepts */
export const USER_TOKEN = 'ghu_volunteer';
/** the App's OAuth client, with which the route checks a token is the App's (app/github/token-check.ts) */
export const APP_CLIENT = { clientId: 'Iv1.runnerapp', clientSecret: 'the-apps-client-secret' };

export function testProbot(appId: number): Probot {
  return new Probot({
    appId,
    privateKey,
    logLevel: 'fatal',
    Octokit: ProbotOctokit.defaults((o: object) => ({ ...o, retry: { enabled: false }, throttle: { enabled: false } })),
  });
}

export async function startRunnerApp(opts: { ledger: LedgerStore; limiter?: OwnerRateLimiter; adminApp?: Probot }): Promise<Loopback> {
  const probot = testProbot(123);
  const handlers: ((req: IncomingMessage, res: ServerResponse) => unknown)[] = [];
  let n = 0;
  await probot.load(
    (app, { addHandler }) =>
      registerRunnerRoutes(app, addHandler, { ledgerFor: () => opts.ledger, limiter: opts.limiter, adminApp: opts.adminApp, runnerName: (l) => `ars-${l.toLowerCase()}-000${++n}`, oauthClient: APP_CLIENT }),
    { cwd: process.cwd(), addHandler: (h) => handlers.push(h) },
  );
  return listen(
    createServer(async (req, res) => {
      for (const h of handlers) if (await h(req, res)) return;
      res.writeHead(404).end();
    }),
  );
}

export const CONFIG_YAML = 'runners:\n  banned: [Mallory]\n  max_per_owner: 2\n  registrations_per_hour: 10\n';

/** "Check a token" (the token is the App's), then GET /user: the token's account, its login (which its owner may rename) and its id (which never changes). */
export function mockWhoAmI(login: string, createdAt = '2015-01-01T00:00:00Z', id = 1) {
  mockTokenIsTheApps(login, id);
  gitHubApi().get('/user').matchHeader('authorization', `token ${USER_TOKEN}`).reply(200, { login, id, created_at: createdAt });
}

/** The App's installation on acme/swarm and its config file. */
export function mockInstallation(configYaml = CONFIG_YAML) {
  const api = gitHubApi();
  api.get('/repos/acme/swarm/installation').reply(200, { id: 42, account: { login: 'acme' } });
  api.post('/app/installations/42/access_tokens').reply(201, { token: 'ghs_installation', expires_at: '2099-01-01T00:00:00Z' });
  api.get('/repos/acme/swarm/contents/.github%2Fautoresearch.yml').matchHeader('authorization', 'token ghs_installation').reply(200, configYaml, { 'content-type': 'text/plain; charset=utf-8' });
}

export function mockRunners(runners: { name: string; status: string; labels: string[] }[], token = 'ghs_installation') {
  gitHubApi()
    .get('/repos/acme/swarm/actions/runners')
    .query({ per_page: '100' })
    .matchHeader('authorization', `token ${token}`)
    .reply(200, { total_count: runners.length, runners: runners.map((r, i) => ({ id: i + 1, os: 'Linux', busy: false, ...r, labels: r.labels.map((name, j) => ({ id: j, name, type: 'custom' })) })) });
}

/** generate-jitconfig; the request bodies GitHub received are pushed to `jitRequests`. */
export const jitRequests: { name: string; runner_group_id: number; labels: string[]; work_folder?: string }[] = [];
export function mockJit(opts: { status?: number; token?: string; name?: string; config?: string; id?: number } = {}) {
  const status = opts.status ?? 201;
  gitHubApi()
    .post('/repos/acme/swarm/actions/runners/generate-jitconfig', (b) => (jitRequests.push(b), true))
    .matchHeader('authorization', `token ${opts.token ?? 'ghs_installation'}`)
    .reply(
      status,
      status === 201
        ? { runner: { id: opts.id ?? 77, name: opts.name ?? 'ars-octocat-0001', os: 'unknown', status: 'offline', busy: false, labels: [] }, encoded_jit_config: opts.config ?? SECRET_JIT }
        : { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' },
    );
}

/** POST /applications/{client_id}/token, as the App's OAuth client (HTTP Basic): 200, the token is the App's, `login`'s. */
export function mockTokenIsTheApps(login: string, id = 1, token = USER_TOKEN) {
  const basic = Buffer.from(`${APP_CLIENT.clientId}:${APP_CLIENT.clientSecret}`).toString('base64');
  gitHubApi()
    .post(`/applications/${APP_CLIENT.clientId}/token`, { access_token: token })
    .matchHeader('authorization', `basic ${basic}`)
    .reply(200, { id: 1, token, app: { client_id: APP_CLIENT.clientId, name: 'autoresearch-swarm', url: 'https://github.com/apps/autoresearch-swarm' }, user: { login, id } });
}
