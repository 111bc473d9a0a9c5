// Which GitHub account pays under a login: a PR's author (app/handlers/pull-request.ts) and a long
// run's requester (app/handlers/long-run.ts) alike. The ledger keeps balances by login; the rule
// (by account id) is app/policy/eligibility.ts authorProblem.
import { freeTierMinAgeDays } from './config.js';
import { status } from './github/octokit.js';
import { authorIdMatters, authorProblem, freeTierProblem } from './policy/eligibility.js';
import type { LedgerView } from './ledger-view.js';
import type { Session } from './session.js';

/** Why `user`'s account may not pay under its login, or null; `askId` asks GitHub for its account id, only when the event did not say and it matters. */
export async function authorRefusal(view: LedgerView, user: { login: string; id?: number } | null, askId: () => Promise<number | undefined>, asked: 'pr' | 'issue' = 'pr'): Promise<string | null> {
  if (!user) return null;
  const balances = view.state.balances();
  const balanceOf = (login: string) => balances.get(login)?.balance ?? 0;
  const registered = [...view.registry.values()];
  const id = user.id ?? (authorIdMatters(registered) ? await askId() : undefined);
  return id === undefined ? null : authorProblem(user.login, id, registered, balanceOf, asked);
}

/**
 * Why `user`'s account may not pay for `cost` with the free tier (too new: app/policy/eligibility.ts
 * freeTierProblem), or null; asked only when its balance falls short. GitHub's webhook user objects
 * carry no created_at: the App asks GET /users/{login} (the account holding the login now; a 404:
 * an unknown age).
 */
export async function freeTierRefusal(s: Pick<Session, 'octokit' | 'cfg' | 'now'>, view: LedgerView, user: { login: string }, cost: number): Promise<string | null> {
  const config = s.cfg.config;
  const minDays = freeTierMinAgeDays(config);
  const balance = view.state.balances().get(user.login)?.balance ?? 0;
  if (minDays <= 0 || config.free_runs_per_day <= 0 || balance >= cost || balance < 0) return null;
  const createdAt = await createdAtOf(s, user.login);
  return freeTierProblem(user.login, createdAt, { minDays, runnerMinDays: config.runners.min_account_age_days, cost, balance }, s.now());
}

/**
 * The authors a dispatch plan pays with the free tier (`free`: its payments, by author) who are too
 * new for it (app/policy/eligibility.ts freeTierProblem), less those in `known`: the queue drains
 * after intake, when a balance that covered a PR then may be spent. One GitHub call per such
 * author, as intake makes, only when a free-tier run is about to be drawn.
 */
export async function tooNewForFree(s: Pick<Session, 'octokit' | 'cfg' | 'now'>, view: LedgerView, free: string[], known: Set<string>, cost: number): Promise<string[]> {
  const out: string[] = [];
  for (const login of new Set(free)) if (!known.has(login) && (await freeTierRefusal(s, view, { login }, cost))) out.push(login);
  return out;
}

async function createdAtOf(s: Pick<Session, 'octokit'>, login: string): Promise<string | null> {
  try {
    return (await s.octokit.rest.users.getByUsername({ username: login })).data.created_at;
  } catch (e) {
    if (status(e) !== 404) throw e;
    return null;
  }
}
