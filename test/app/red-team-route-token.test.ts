// Red team, the runner route's caller: a token GitHub's `GET /user` accepts is not yet a token
// issued to this App. The route (app/routes/runners.ts) against the faked GitHub
// (test/app/fake-github.ts, every call checked against GitHub's REST description), the ledger on
// the fake's `ledger` branch.
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import { createRunnerHandler, type RunnerRouteOptions } from '../../app/routes/runners.js';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';
import { expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
import { APP_CLIENT, FakeGitHub, OWNER, REPO } from './fake-github.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const CLASS = 'gpu-rtx-4090-24gb';
const OTHER_APP = 'Ov23liOtherTool00000'; // an OAuth app alice once authorised (a CI dashboard, a chat bot)

/** everything the App logged, and everything written to the console, for the no-secret-logged check */
const logged: string[] = [];
const capture = (...a: unknown[]) => void logged.push(a.map((x) => (x instanceof Error ? `${x.message} ${x.stack} ${JSON.stringify(x)}` : JSON.stringify(x) ?? String(x))).join(' '));
function captureLog() {
  const log: any = { trace: capture, debug: capture, info: capture, warn: capture, error: capture, fatal: capture, level: 'trace' };
  log.child = () => log;
  return log;
}
for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) jest.spyOn(console, m).mockImplementation(capture);

let gh: FakeGitHub;
const tokens = new Set<string>();

function route(options: RunnerRouteOptions = { oauthClient: APP_CLIENT }) {
  const Octokit = ProbotOctokit.defaults((o: any) => ({ ...o, retry: { enabled: false }, throttle: { enabled: false } })) as typeof ProbotOctokit;
  const app = new Probot({ appId: 1, privateKey, Octokit, log: captureLog() });
  return createRunnerHandler(app, { runnerName: (l) => `ars-${l}-0001`, ...options });
}

/** What `runner join` sends, answered in process: status, body, headers. */
async function ask(handler: ReturnType<typeof route>, token: string): Promise<{ status: number; body: any; headers: Record<string, string> }> {
  const text = JSON.stringify({ repo: `${OWNER}/${REPO}`, hardware_class: CLASS });
  const req = Object.assign(Readable.from([Buffer.from(text)]), { method: 'POST', url: JIT_CONFIG_PATH, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }) as unknown as IncomingMessage;
  const out = { status: 0, body: null as any, headers: {} as Record<string, string> };
  const res = {
    writeHead: (s: number, h: Record<string, string> = {}) => ((out.status = s), (out.headers = h), res),
    end: (b?: string) => void (out.body = b ? JSON.parse(b) : null),
  } as unknown as ServerResponse;
  expect(await handler(req, res)).toBe(true);
  return out;
}

const registered = () => [...gh.ledgerFiles().values()].join('\n').split('\n').filter((l) => l.includes('"runner_registered"')).map((l) => JSON.parse(l).data);

beforeEach(() => {
  nock.disableNetConnect();
  resetRecordedCalls();
  gh = new FakeGitHub();
  gh.refs.set('heads/main', gh.commit({ '.github/autoresearch.yml': 'runners:\n  min_account_age_days: 0\n' }, null, 'the swarm'));
});
afterEach(() => {
  for (const t of gh.userTokens.keys()) tokens.add(t);
  expectRealGitHubCalls();
  nock.cleanAll();
});
afterAll(() => {
  // no token, no client secret, in anything the App logged or printed, in every test above
  const all = logged.join('\n');
  expect(all).toMatch(/runner registered/); // the capture works
  expect(tokens.size).toBeGreaterThan(0);
  for (const t of tokens) expect(all).not.toContain(t);
  expect(all).not.toContain(APP_CLIENT.clientSecret);
  expect(all).not.toContain(Buffer.from(`${APP_CLIENT.clientId}:${APP_CLIENT.clientSecret}`).toString('base64'));
});

describe('a token issued to another app', () => {
  // Attack: alice once authorised some other OAuth app (or GitHub App); its operator, or whoever
  // leaked its tokens, holds a token of alice's that `GET /user` accepts. The route asked GitHub
  // only `GET /user`, so that token registered runners as alice: credits, faults and bans in her name.
  it('does not register a runner in its user\'s name', async () => {
    const stolen = gh.issueToken('alice', OTHER_APP);
    const r = await ask(route(), stolen);
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/not issued to this swarm's GitHub App.*runner join.*device flow/);
    expect(r.body).not.toHaveProperty('encoded_jit_config');
    expect(registered()).toEqual([]);
    expect(gh.runners).toEqual([]);
    // and GitHub was asked nothing in the App's installation's name
    expect(recordedCalls()).toEqual(['POST /applications/{client_id}/token']);
  });

  it('a token of this App\'s still registers its owner\'s runner end to end: JIT config, ledger entry', async () => {
    const mine = gh.issueToken('alice');
    const r = await ask(route(), mine);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ runner_name: 'ars-alice-0001', labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice'], encoded_jit_config: expect.any(String) });
    expect(registered()).toEqual([expect.objectContaining({ runner_name: 'ars-alice-0001', owner: 'alice', hardware_class: CLASS, registered_by: 'route' })]);
    expect(recordedCalls().slice(0, 2)).toEqual(['POST /applications/{client_id}/token', 'GET /user']);
  });
});

describe('the App\'s side of the check', () => {
  it('without a client secret configured, every registration is refused with one line naming the setting', async () => {
    const mine = gh.issueToken('alice');
    for (const oauthClient of [null, { clientId: APP_CLIENT.clientId, clientSecret: '' }]) {
      const r = await ask(route({ oauthClient }), mine);
      expect(r.status).toBe(503);
      expect(r.body.error).toMatch(/GITHUB_CLIENT_SECRET/);
      expect(r.body.error).not.toContain('\n');
    }
    expect(recordedCalls()).toEqual([]);
    expect(registered()).toEqual([]);
    expect(logged.join('\n')).toMatch(/GITHUB_CLIENT_SECRET is not set/); // and the operator is told at start
  });

  it('a GitHub error on the check is an answer to retry, and registers nothing', async () => {
    const mine = gh.issueToken('alice');
    gh.faults.push({ method: 'POST', path: /^\/applications\//, status: 502, body: { message: 'Server Error' } });
    const r = await ask(route(), mine);
    expect(r.status).toBe(502);
    expect(r.headers['retry-after']).toBe('60');
    expect(r.body.error).toMatch(/could not check.*try again/);
    expect(registered()).toEqual([]);
    // the next try goes through
    expect((await ask(route(), mine)).status).toBe(201);
  });

  it('a wrong client secret refuses every token (GitHub answers 404) and the secret is not echoed', async () => {
    const mine = gh.issueToken('alice');
    const r = await ask(route({ oauthClient: { clientId: APP_CLIENT.clientId, clientSecret: 'not-the-secret' } }), mine);
    expect(r.status).toBe(401);
    expect(JSON.stringify(r.body)).not.toContain('not-the-secret');
    expect(registered()).toEqual([]);
  });
});
