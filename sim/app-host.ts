// Hosting the real App (createApp) against the faked GitHub, shared by the simulator
// (sim/swarm.ts, virtual time) and the one-machine swarm (swarm/, real time): the Probot
// instance wired to a fetch, the runner route it registers, runner registration through that
// route as `runner join` does, and the webhook payloads GitHub sends (from
// @octokit/webhooks-examples, with this repository's facts laid over).
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Probot, ProbotOctokit } from 'probot';
import { createApp } from '../app/index.js';
import { JIT_CONFIG_PATH } from '../runner/protocol.js';
import { sealKeyPairFrom } from '../trainer/seal.js';
import { APP_CLIENT, OWNER, REPO, repositoryJson, type FakeGitHub, type WorkflowRun } from './github/fake.js';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as { name: string; examples: any[] }[];
export const exampleOf = (name: string, action: string) => examples.find((e) => e.name === name)!.examples.find((x) => x.action === action);

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/** An RSA key for the App (its tokens come from the fake, which does not check them). */
export function appKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

/**
 * The real App loaded into a Probot whose Octokit talks to `fetch`. Retries and throttling are
 * off: a failed handler is a failed delivery, redelivered by the host. `route` is the runner
 * route the App registered (null if none). The App's seal key pair comes from `sealSecret`, or
 * from its private key.
 */
export async function loadApp(o: { fetch: typeof fetch; now: () => Date; privateKey: string; log?: unknown; sealSecret?: string }): Promise<{ probot: Probot; route: RouteHandler | null }> {
  const fetch = o.fetch;
  const Octokit = ProbotOctokit.defaults((x: any) => ({ ...x, request: { ...(x.request ?? {}), fetch }, retry: { enabled: false }, throttle: { enabled: false } })) as typeof ProbotOctokit;
  const probot = new Probot({ appId: 1, privateKey: o.privateKey, Octokit, log: (o.log ?? silentLog()) as any });
  let route: RouteHandler | null = null;
  // the App's seal key pair, derived from a secret as the App derives it from PRIVATE_KEY (the
  // simulator passes one of its seed: the key is in every dispatch, so in the ledger)
  await probot.load(createApp({ now: o.now, sealKeys: sealKeyPairFrom(o.sealSecret ?? o.privateKey), ledgerRetryDelayMs: 0, oauthClient: APP_CLIENT }), {
    cwd: process.cwd(),
    addHandler: (h: any) => {
      route ??= h;
    },
  });
  return { probot, route };
}

/**
 * Asks the App's runner route for a just-in-time runner configuration for `login`, as `runner
 * join` does. The runner stays offline on GitHub until its owner starts it with the configuration.
 */
export async function registerRunner(route: RouteHandler | null, login: string, hardwareClass: string): Promise<{ ok: boolean; status: number; text: string; retryAfter?: number; runnerName?: string }> {
  const body = JSON.stringify({ repo: `${OWNER}/${REPO}`, hardware_class: hardwareClass });
  const req = Object.assign(Readable.from([Buffer.from(body)]), { method: 'POST', url: JIT_CONFIG_PATH, headers: { authorization: `Bearer gho_${login}`, 'content-type': 'application/json' } }) as unknown as IncomingMessage;
  let status = 0;
  let text = '';
  let retryAfter: number | undefined;
  const res = {
    writeHead: (s: number, h?: Record<string, string>) => {
      status = s;
      if (h?.['retry-after']) retryAfter = Number(h['retry-after']);
      return res;
    },
    setHeader: () => res,
    end: (b?: string) => {
      text = b ?? '';
    },
  } as unknown as ServerResponse;
  if (!route) throw new Error('the App registered no runner route');
  await route(req, res);
  if (status !== 201) return { ok: false, status, text, retryAfter };
  return { ok: true, status, text, runnerName: (JSON.parse(text) as { runner_name: string }).runner_name };
}

/** installation.created for the one repository (installation id 1). */
export function installationPayload(): any {
  const payload = structuredClone(exampleOf('installation', 'created'));
  payload.installation = { ...payload.installation, id: 1 };
  payload.repositories = [{ id: 1, node_id: 'R_1', name: REPO, full_name: `${OWNER}/${REPO}`, private: false }];
  return payload;
}

/** pull_request.opened for PR `n` at `head` by `author`. */
export function pullRequestOpenedPayload(n: number, title: string, head: string, author: string): any {
  return pullRequestPayload('opened', n, title, head, author);
}

/**
 * pull_request.`action` (opened, synchronize) for PR `n` at `head` by `author`; `push`: who pushed
 * it onto which head (the sender is the author unless said: the App's bot for GitHub's update).
 */
export function pullRequestPayload(action: 'opened' | 'synchronize', n: number, title: string, head: string, author: string, push: { before?: string; sender?: string } = {}): any {
  const payload = structuredClone(exampleOf('pull_request', action) ?? exampleOf('pull_request', 'opened'));
  payload.action = action;
  payload.number = n;
  Object.assign(payload.pull_request, { number: n, state: 'open', title, labels: [] });
  payload.pull_request.head.sha = head;
  payload.pull_request.user.login = author;
  const sender = push.sender ?? author;
  payload.sender = { ...payload.sender, login: sender, type: sender.endsWith('[bot]') ? 'Bot' : 'User' };
  if (action === 'synchronize') payload.before = push.before ?? payload.before;
  payload.after = head;
  payload.repository = { ...payload.repository, ...repositoryJson() };
  payload.installation = { id: 1 };
  return payload;
}

/** A YAML mapping of plain values (the App's settings file). */
export function toYaml(v: Record<string, unknown>, indent = ''): string {
  return Object.entries(v)
    .map(([k, x]) => (x && typeof x === 'object' && !Array.isArray(x) ? `${indent}${k}:\n${toYaml(x as Record<string, unknown>, indent + '  ')}` : `${indent}${k}: ${JSON.stringify(x)}`))
    .join('\n');
}

/** A Probot logger that says nothing (warnings and errors on stderr with SIM_DEBUG set). */
export function silentLog() {
  const noop = () => {};
  const err = process.env.SIM_DEBUG ? (...a: unknown[]) => console.error(...a) : noop;
  const log: any = { trace: noop, debug: noop, info: noop, warn: err, error: err, fatal: err, level: 'silent' };
  log.child = () => log;
  return log;
}

/** The App's clock: a completed run of the scheduled tick.yml on the default branch, sent as workflow_run. */
export function emitTick(gh: FakeGitHub, id: number, t: number): void {
  // GitHub disabled the schedule (60 days without activity): no tick until the App enables it
  if (!gh.fires('tick.yml')) return;
  const run: WorkflowRun = {
    id, workflow: 'tick.yml', path: '.github/workflows/tick.yml', event: 'schedule', inputs: {}, head_sha: gh.refs.get('heads/main')!, display_title: 'tick',
    group: null, cancelInProgress: false, runsOn: ['ubuntu-latest'], status: 'completed', conclusion: 'success', runner_name: null, created_at: t, started_at: t, completed_at: t,
    actor: OWNER, // a schedule's runs are the last account that edited the cron's
  };
  gh.emit('workflow_run', gh.workflowRunPayload(run));
}
