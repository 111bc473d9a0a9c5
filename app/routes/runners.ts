// The App's runner route: a volunteer's CLI sends its GitHub token and hardware class, and gets
// back a just-in-time configuration for one ephemeral self-hosted runner labelled with its owner.
//
// Trust: the caller's token must be one GitHub issued to this App (its device flow, `runner
// join`: app/github/token-check.ts), then `GET /user` with it says who is asking; it is never
// stored or logged. The JIT config (a runner credential) goes only to that authenticated caller,
// and only after the registration is in the ledger (so credits reach the right person).
// Minting it needs the App's Administration (write) permission: see docs/runners.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
// read at call time (crypto.randomBytes), so the simulator can seed it: see sim/determinism.ts
import crypto from 'node:crypto';
import { Octokit } from '@octokit/rest';
import type { Probot } from 'probot';
import { GitHubLedgerStore, type LedgerStore } from '../../ledger/index.js';
import { checkAppToken, oauthClientFromEnv, type OAuthClient } from '../github/token-check.js';
import { ineligible } from '../policy/eligibility.js';
import { givingBack } from '../policy/pace.js';
import { JIT_CONFIG_PATH, JitConfigRequest, type JitConfigResponse, ownerLabel, runnerLabels, RunnerSettings } from '../../runner/protocol.js';

type InstallationOctokit = Awaited<ReturnType<Probot['auth']>>;
type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export type Decision = { ok: true } | { ok: false; status: number; error: string; retryAfterSeconds?: number };

/**
 * Whether `login` may get another runner; pure, so the rules are testable without GitHub. The
 * eligibility rules (ban lists, allow-list, account age) are the ones every result is held to
 * (app/policy/eligibility.ts): refusing here saves the jobs an ineligible runner would waste.
 */
export function decideRegistration(input: {
  login: string;
  policy: RunnerSettings;
  onlineRunners: number;
  recentRegistrations: number;
  retryAfterSeconds: number;
  /** the account's creation time from GET /user (absent: the age rule is not checked) */
  createdAt?: string | null;
  /** logins the ledger bans (owner_banned), and why */
  ledgerBans?: Map<string, string>;
  /** the owner keeps giving jobs back (app/policy/pace.ts givingBack): its give-backs in the last hour and when it may join again */
  givingBack?: { count: number; retryAfterSeconds: number; /** of them, jobs handed back with no result the App could score (no artifact, an unreadable one, a harness error) */ unscored?: number } | null;
  /**
   * the caller's GitHub account id (GET /user) and the ledger's earlier registrations: a login is
   * a name its account may change and another account may take afterwards; the id is the account
   */
  identity?: { id: number; registered: { owner: string; owner_id?: number }[] };
  now?: Date;
}): Decision {
  const { login, policy } = input;
  const bans = input.ledgerBans ?? new Map<string, string>();
  // The account's first login (ledger/trust.ts firstLoginOf, from the registrations with its id):
  // a second login's runners were registered, and every result of theirs refused at intake.
  const firstLoginOf = (id: number) => input.identity?.registered.find((r) => r.owner_id === id)?.owner ?? null;
  const trust = { banned: (l: string) => bans.get(l.toLowerCase()) ?? null, firstLoginOf };
  const rules = input.createdAt === undefined ? { ...policy, min_account_age_days: 0 } : policy;
  const reg = { owner: login, owner_created_at: input.createdAt ?? null, registered_by: 'route' as const, ...(input.identity ? { owner_id: input.identity.id } : {}) };
  const why = identityProblem(login, input.identity, rules, trust) ?? ineligible(reg, rules, trust, input.now ?? new Date(Date.now()));
  if (why) {
    return { ok: false, status: 403, error: `${login} is not allowed to run jobs for this swarm: ${why}; ask the maintainers if this is a mistake` };
  }
  if (input.onlineRunners >= policy.max_per_owner) {
    return {
      ok: false,
      status: 429,
      error: `${login} already has ${input.onlineRunners} runners online, the limit per owner is ${policy.max_per_owner} (one asked for counts from then, for ${START_GRACE_MS / 60_000} minutes if it does not start): stop one (Ctrl-C in its terminal) or wait until one finishes`,
      retryAfterSeconds: 60,
    };
  }
  if (input.givingBack) {
    return {
      ok: false,
      status: 429,
      error: `${login}'s runners gave ${input.givingBack.count} jobs back in the last hour (${input.givingBack.unscored ? `${input.givingBack.unscored} of them with no result the App could score, the others below` : 'the machine was below'} its class's pace before training; the limit is ${policy.give_backs_per_hour}, and more than it ran): wait ${input.givingBack.retryAfterSeconds} s, and ${input.givingBack.unscored ? 'run `runner doctor` and ' : ''}free the machine of other load before it takes jobs again`,
      retryAfterSeconds: input.givingBack.retryAfterSeconds,
    };
  }
  if (input.recentRegistrations >= policy.registrations_per_hour) {
    return {
      ok: false,
      status: 429,
      error: `${login} asked for ${input.recentRegistrations} runner configs in the last hour, the limit is ${policy.registrations_per_hour}: wait ${input.retryAfterSeconds} s (if your runner exits right after starting, run \`runner doctor\`)`,
      retryAfterSeconds: input.retryAfterSeconds,
    };
  }
  return { ok: true };
}

/**
 * Why the account behind `login` may not register under it, judged by account id: the account
 * registered runners before under another login that is banned now (an owner renamed to shed a
 * ban), or another account registered runners under this login (a renamed owner's login taken
 * over, with the trust, faults and credits the ledger keeps under it). Registrations without an
 * id (older entries) say nothing.
 */
function identityProblem(login: string, identity: { id: number; registered: { owner: string; owner_id?: number }[] } | undefined, rules: Pick<RunnerSettings, 'banned' | 'allow' | 'min_account_age_days'>, trust: { banned: (l: string) => string | null }): string | null {
  if (!identity) return null;
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  for (const r of identity.registered) {
    if (r.owner_id === undefined) continue;
    if (same(r.owner, login) && r.owner_id !== identity.id) {
      return `runners were registered as ${r.owner} by another GitHub account (id ${r.owner_id}), not this one (id ${identity.id}): a login that changed hands keeps its owner's record`;
    }
    if (r.owner_id === identity.id && !same(r.owner, login)) {
      const banned = rules.banned.some((b) => same(b, r.owner)) ? 'listed in runners.banned' : trust.banned(r.owner) ? `banned by the ledger (${trust.banned(r.owner)})` : null;
      if (banned) return `the GitHub account registered runners as ${r.owner}, who is ${banned}; a new login does not lift it`;
    }
  }
  return null;
}

/** Sliding one-hour window per owner, in this process (a second App process keeps its own). */
export class OwnerRateLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly windowMs = 3_600_000, private readonly now: () => number = Date.now) {}
  /** registrations in the window, and seconds until the oldest leaves it */
  peek(login: string): { count: number; retryAfterSeconds: number } {
    const t = this.now();
    const kept = (this.hits.get(login.toLowerCase()) ?? []).filter((h) => h > t - this.windowMs);
    this.hits.set(login.toLowerCase(), kept);
    const retry = kept.length ? Math.ceil((kept[0] + this.windowMs - t) / 1000) : 0;
    return { count: kept.length, retryAfterSeconds: retry };
  }
  record(login: string): void {
    const k = login.toLowerCase();
    this.hits.set(k, [...(this.hits.get(k) ?? []), this.now()]);
  }
}

export interface RunnerRouteOptions {
  /**
   * where registrations are recorded; default: the `ledger` branch of the swarm repo. Pass the
   * App's own `ledgerFor` so the route shares its per-repository store (and its cached head).
   */
  ledgerFor?: (octokit: InstallationOctokit, repo: { owner: string; repo: string }) => LedgerStore;
  limiter?: OwnerRateLimiter;
  /**
   * A second App holding only the Administration permission, to mint and count runners, when
   * the operator keeps that permission out of the main App (docs/runners.md). The main App
   * still reads the config and writes the ledger.
   */
  adminApp?: Probot;
  /** the runner name; random by default so two machines of one owner never collide */
  runnerName?: (login: string) => string;
  /**
   * the App's OAuth client, to check a caller's token was issued to this App; default from
   * GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET. Null (or none in the environment): every
   * registration is refused (503) naming the missing setting
   */
  oauthClient?: OAuthClient | null;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly retryAfterSeconds?: number) {
    super(message);
  }
}

const MAX_BODY_BYTES = 8 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the request body is over ${MAX_BODY_BYTES} bytes; send only {"repo", "hardware_class"}`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON; send {"repo": "owner/name", "hardware_class": "gpu-..."}');
  }
}

function bearerToken(req: IncomingMessage): string | null {
  const m = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function githubStatus(e: unknown): number | null {
  const s = (e as { status?: unknown })?.status;
  return typeof s === 'number' ? s : null;
}

/** `GET /user` with the caller's own token: who is asking, and since when their account exists. */
async function whoIs(token: string, baseUrl: string): Promise<{ login: string; id: number; created_at: string | null }> {
  const user = new Octokit({ auth: token, baseUrl, request: { retries: 0 } });
  try {
    const { data } = await user.rest.users.getAuthenticated();
    return { login: data.login, id: data.id, created_at: data.created_at ?? null };
  } catch (e) {
    const s = githubStatus(e);
    if (s === 401 || s === 403) {
      throw new HttpError(401, 'GitHub did not accept your token (it is invalid, expired or revoked): log in again with `runner join` (device flow) or set a fresh token in $AUTORESEARCH_GITHUB_TOKEN');
    }
    throw new HttpError(502, `GitHub could not say who owns your token (HTTP ${s ?? 'error'}); try again in a minute`);
  }
}

async function loadPolicy(octokit: InstallationOctokit, owner: string, repo: string): Promise<RunnerSettings> {
  let config: unknown;
  try {
    ({ config } = await octokit.config.get({ owner, repo, path: '.github/autoresearch.yml' }));
  } catch (e) {
    if (githubStatus(e) !== null) throw e;
    throw new HttpError(503, `the swarm's .github/autoresearch.yml could not be read (${(e as Error).message.replace(/^\[[^\]]*\] /, '')}); the maintainers must fix it before runners can join`);
  }
  const parsed = RunnerSettings.safeParse((config as { runners?: unknown } | null)?.runners ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(503, `the swarm's .github/autoresearch.yml has an invalid runners.${issue.path.join('.')} (${issue.message}); the maintainers must fix it before runners can join`);
  }
  return parsed.data;
}

/** How long a runner the route minted may take to start; GitHub lists it offline until it does. */
export const START_GRACE_MS = 10 * 60_000;

/**
 * The owner's runners that count toward `max_per_owner`: those online, and those the route minted
 * for it (`minted`: runner name to when, from the ledger) less than START_GRACE_MS ago that GitHub
 * still lists offline: a JIT config not started yet. Counting the online ones alone let an owner
 * ask for configs one after another without starting them and then start them all at once.
 * `stale`: the ids of the owner's runners the route minted longer ago that are offline and idle
 * (never started, or their machine is gone; `runner join` starts one at once): deleted before
 * another is minted, so such a config cannot be started later.
 */
async function runnersOf(octokit: InstallationOctokit, owner: string, repo: string, login: string, minted: Map<string, number>, now: number): Promise<{ count: number; stale: number[] }> {
  const label = ownerLabel(login);
  const runners = await octokit.paginate(octokit.rest.actions.listSelfHostedRunnersForRepo, { owner, repo, per_page: 100 });
  let count = 0;
  const stale: number[] = [];
  for (const r of runners) {
    if (!r.labels.some((l) => l.name.toLowerCase() === label)) continue;
    const at = minted.get(r.name);
    if (r.status === 'online') count++;
    else if (at !== undefined && !r.busy) {
      if (now - at < START_GRACE_MS) count++;
      else stale.push(r.id);
    }
  }
  return { count, stale };
}

export function createRunnerHandler(app: Probot, options: RunnerRouteOptions = {}): Handler {
  const limiter = options.limiter ?? new OwnerRateLimiter();
  const ledgerFor = options.ledgerFor ?? ((octokit, ref) => new GitHubLedgerStore(octokit, ref));
  const runnerName = options.runnerName ?? ((login: string) => `ars-${login.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}`);
  const oauthClient = options.oauthClient !== undefined ? options.oauthClient : oauthClientFromEnv();
  if (!oauthClient?.clientId || !oauthClient.clientSecret) app.log.warn('GITHUB_CLIENT_ID or GITHUB_CLIENT_SECRET is not set: the runner route refuses every registration until both are (docs/runners.md)');

  // Each registration costs the installation a few API calls (one per job); these two answers
  // rarely change, so they are kept briefly. A stale installation id is dropped on its first error.
  const installationIds = new Map<string, number>();
  const policies = new Map<string, { at: number; policy: RunnerSettings }>();
  const POLICY_TTL_MS = 60_000;

  async function installationOf(a: Probot, which: string, owner: string, repo: string): Promise<InstallationOctokit> {
    const key = `${a === app ? 'main' : 'admin'}:${owner}/${repo}`.toLowerCase();
    const cached = installationIds.get(key);
    if (cached !== undefined) {
      try {
        return await a.auth(cached);
      } catch {
        installationIds.delete(key);
      }
    }
    try {
      const id = (await (await a.auth()).rest.apps.getRepoInstallation({ owner, repo })).data.id;
      installationIds.set(key, id);
      return await a.auth(id);
    } catch (e) {
      if (githubStatus(e) === 404) throw new HttpError(404, `the ${which} is not installed on ${owner}/${repo}: check --repo`);
      throw e;
    }
  }

  async function policyOf(octokit: InstallationOctokit, owner: string, repo: string): Promise<RunnerSettings> {
    const key = `${owner}/${repo}`.toLowerCase();
    const hit = policies.get(key);
    if (hit && Date.now() - hit.at < POLICY_TTL_MS) return hit.policy;
    const policy = await loadPolicy(octokit, owner, repo);
    policies.set(key, { at: Date.now(), policy });
    return policy;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, `use POST ${JIT_CONFIG_PATH}`);
    const token = bearerToken(req);
    if (!token) throw new HttpError(401, 'send your GitHub token as "Authorization: Bearer <token>" (`runner join` does this for you)');
    const body = JitConfigRequest.safeParse(await readJson(req));
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new HttpError(400, `bad request field ${issue.path.join('.') || '(body)'}: ${issue.message}`);
    }
    const [owner, repo] = body.data.repo.split('/');

    const baseUrl = (await app.auth()).request.endpoint.DEFAULTS.baseUrl;
    // a token GitHub issued to another app or tool would pass GET /user: it must be this App's
    const issued = await checkAppToken(token, oauthClient, baseUrl);
    if (!issued.ok) throw new HttpError(issued.status, issued.error, issued.retryAfterSeconds);
    const { login, id: accountId, created_at: createdAt } = await whoIs(token, baseUrl);

    const octokit = await installationOf(app, 'autoresearch App', owner, repo);
    // runner management (Administration permission) may live in a separate, narrow App
    const admin = options.adminApp ? await installationOf(options.adminApp, 'runner-admin App', owner, repo) : octokit;
    const policy = await policyOf(octokit, owner, repo);
    const recent = limiter.peek(login);
    const store = ledgerFor(octokit, { owner, repo });
    const ledgerBans = new Map<string, string>();
    const entries = await store.read();
    for (const e of entries) if (e.type === 'owner_banned') ledgerBans.set((e.data as { login: string }).login.toLowerCase(), (e.data as { reason: string }).reason);
    const backs = givingBack(entries, login, new Date(Date.now()), policy.give_backs_per_hour);
    const registered = entries.filter((e) => e.type === 'runner_registered').map((e) => e.data as { owner: string; owner_id?: number });
    const identity = Number.isInteger(accountId) && accountId > 0 ? { id: accountId, registered } : undefined;
    const allow = (onlineRunners: number) => {
      const d = decideRegistration({ login, policy, onlineRunners, recentRegistrations: recent.count, retryAfterSeconds: recent.retryAfterSeconds, createdAt, ledgerBans, givingBack: backs, identity });
      if (!d.ok) throw new HttpError(d.status, d.error, d.retryAfterSeconds);
    };
    allow(0); // the cheap checks first: counting the owner's runners is a paginated API call
    const minted = new Map(entries.filter((e) => e.type === 'runner_registered' && (e.data as { registered_by?: string }).registered_by === 'route' && (e.data as { owner: string }).owner.toLowerCase() === login.toLowerCase()).map((e) => [(e.data as { runner_name: string }).runner_name, Date.parse(e.time)]));
    const mine = await runnersOf(admin, owner, repo, login, minted, Date.now());
    allow(mine.count);
    // a config minted and never started is taken back before another is minted (one that cannot be is counted)
    let kept = 0;
    for (const id of mine.stale) await admin.rest.actions.deleteSelfHostedRunnerFromRepo({ owner, repo, runner_id: id }).catch(() => void kept++);
    if (kept) allow(mine.count + kept);

    const labels = runnerLabels(body.data.hardware_class, login);
    limiter.record(login); // counted even if GitHub fails below, so a failing caller cannot spin
    let jit;
    try {
      jit = (
        await admin.rest.actions.generateRunnerJitconfigForRepo({
          owner,
          repo,
          name: runnerName(login),
          runner_group_id: policy.runner_group_id,
          labels,
          work_folder: policy.work_folder,
        })
      ).data;
    } catch (e) {
      const s = githubStatus(e);
      const why = s === 403 ? `: the App needs the Administration (read and write) permission on ${owner}/${repo} (see docs/runners.md)` : '; try again in a minute';
      throw new HttpError(502, `GitHub refused to create the runner (HTTP ${s ?? 'error'})${why}`);
    }

    try {
      // the class `runner doctor` measured is bound to the runner here: a result of another class is refused
      await store.append([
        { type: 'runner_registered', data: { runner_name: jit.runner.name, owner: login, hardware_class: body.data.hardware_class, labels, registered_by: 'route', owner_created_at: createdAt, ...(identity ? { owner_id: identity.id } : {}) } },
      ]);
    } catch (e) {
      // Without the ledger entry its jobs could not be credited: take the runner back.
      await admin.rest.actions.deleteSelfHostedRunnerFromRepo({ owner, repo, runner_id: jit.runner.id }).catch(() => undefined);
      app.log.error({ err: e, login }, 'runner registration not recorded; runner deleted');
      throw new HttpError(503, 'the swarm could not record your runner in its ledger, so it was not created; try again in a minute');
    }
    app.log.info({ login, runner: jit.runner.name, hardware_class: body.data.hardware_class }, 'runner registered');
    const answer: JitConfigResponse = { runner_name: jit.runner.name, runner_id: jit.runner.id, labels, encoded_jit_config: jit.encoded_jit_config };
    send(res, 201, answer);
  }

  return async (req, res) => {
    if ((req.url ?? '').split('?')[0] !== JIT_CONFIG_PATH) return false;
    try {
      await handle(req, res);
    } catch (e) {
      if (e instanceof HttpError) {
        const headers: Record<string, string> = {};
        if (e.status === 401) headers['www-authenticate'] = 'Bearer';
        if (e.retryAfterSeconds) headers['retry-after'] = String(e.retryAfterSeconds);
        send(res, e.status, { error: e.message }, headers);
      } else {
        installationIds.clear(); // an uninstalled App or a changed config shows up as an error here
        policies.clear();
        app.log.error({ err: e }, 'runner route failed');
        send(res, 502, { error: `the App could not reach GitHub (HTTP ${githubStatus(e) ?? 'error'}); try again in a minute` });
      }
    }
    return true;
  };
}

/**
 * Wire the route into the App: in app/index.ts, `(app, { addHandler }) => { ...;
 * registerRunnerRoutes(app, addHandler, { ledgerFor: deps.ledgerFor }) }`. Probot 14 has no
 * express router; handlers are plain node `(req, res) => handled` functions added to its server.
 */
export function registerRunnerRoutes(app: Probot, addHandler: (handler: Handler) => void, options?: RunnerRouteOptions): void {
  addHandler(createRunnerHandler(app, options));
}
