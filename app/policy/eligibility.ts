// Who may count. Pure: the owner's registration (from the ledger), the ban list and trust state
// (the ledger's), the repository's settings and the time in; a reason to refuse, or null.
// Applied when a runner registers (the route) and again to every result (rules change, bans happen);
// and which account may pay for a PR under its login (authorProblem, at the PR's intake).
import type { TrustBook } from '../../ledger/index.js';
import type { RunnerSettings } from '../../runner/protocol.js';
import { code } from './shown.js';

export interface Registration {
  owner: string;
  /** the route's registrations record the owner's account creation time; an admin's fleet labels do not need one */
  owner_created_at?: string | null;
  registered_by?: 'route' | 'labels';
  /** the owner's GitHub account id, recorded by the route (absent in older entries and fleet runners) */
  owner_id?: number;
}

const DAY_MS = 86_400_000;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The account id an entry of runners.allow or runners.banned names (`id:<n>`), or null for a login. */
const entryId = (entry: string): number | null => {
  const m = /^\s*id:\s*(\d+)\s*$/i.exec(entry);
  return m ? Number(m[1]) : null;
};
const accountEntry = (list: string[], id: number | undefined) => id !== undefined && list.some((e) => entryId(e) === id);

/**
 * Whether an entry of runners.allow, runners.banned or containment.trusted_fleets names the owner: `id:<n>` its GitHub account
 * (whatever its login now), else its login in any letter case. A login is only a name: an account
 * can rename itself and another account can then take the freed login, so a banned person who never
 * registered runners escaped a login entry by renaming, and an account taking a freed login
 * inherited its allow; an id entry holds the account. A registration without an id (an older one,
 * a fleet runner) is matched by login only.
 */
export function names(entry: string, login: string, id: number | undefined): boolean {
  const n = entryId(entry);
  return n === null ? same(entry, login) : n === id;
}

/** `trust`: the ledger's bans (its TrustBook, or any lookup of owner_banned entries) and, from a TrustBook, the first login of each account. */
export function ineligible(reg: Registration, rules: Pick<RunnerSettings, 'banned' | 'allow' | 'min_account_age_days'>, trust: (Pick<TrustBook, 'banned'> & Partial<Pick<TrustBook, 'firstLoginOf'>>) | null, now: Date): string | null {
  const login = reg.owner;
  // One account under a second login (renamed since it registered runners) was a second owner: it
  // verified its own claims and filled a quorum alone. It counts under its first login only.
  const first = reg.owner_id !== undefined ? (trust?.firstLoginOf?.(reg.owner_id) ?? null) : null;
  if (first !== null && !same(first, login)) {
    return `${login}'s GitHub account (id ${reg.owner_id}) registered runners as ${first} first: an account is one owner whatever its login, so its runners count only as ${first} (rename the account back to ${first} and run \`runner join\` again)`;
  }
  const id = reg.owner_id;
  if (rules.banned.some((b) => names(b, login, id))) {
    return accountEntry(rules.banned, id) ? `${login}'s GitHub account (id ${id}) is listed in runners.banned of .github/autoresearch.yml` : `${login} is listed in runners.banned of .github/autoresearch.yml`;
  }
  const banned = trust?.banned(login);
  if (banned) return `${login} is banned by the ledger (${banned})`;
  if (rules.allow.length && !rules.allow.some((a) => names(a, login, id))) {
    return id === undefined ? `${login} is not in runners.allow of .github/autoresearch.yml` : `${login} (GitHub account id ${id}) is not in runners.allow of .github/autoresearch.yml (add \`id:${id}\`, which holds whatever the account's login)`;
  }
  // An admin registered a fleet runner by hand: the admin vouches for its owner's account.
  if (rules.min_account_age_days > 0 && reg.registered_by !== 'labels') {
    const created = reg.owner_created_at ? Date.parse(reg.owner_created_at) : NaN;
    if (!Number.isFinite(created)) return `${login}'s account age is unknown (the runner was registered before the App recorded it); run \`runner join\` again`;
    const days = (now.getTime() - created) / DAY_MS;
    if (days < rules.min_account_age_days) {
      return `${login}'s GitHub account is ${Math.floor(days)} days old; the swarm counts runners of accounts at least ${rules.min_account_age_days} days old (runners.min_account_age_days)`;
    }
  }
  return null;
}

/** A runner registration as the ledger keeps it: its owner's login, and the account id the route recorded (absent in older entries and fleet runners). */
export type Registered = { owner: string; owner_id?: number };

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Whether the account id of a PR's author decides anything: some runner was registered with one (the reconcile pass's events carry no id: the App asks GitHub only then). */
export function authorIdMatters(registered: Iterable<Registered>): boolean {
  for (const r of registered) if (r.owner_id !== undefined) return true;
  return false;
}

/**
 * Why GitHub account `id`, holding `login` now, may not open experiments, or null. The ledger keeps
 * balances, free runs and debts by login, and a PR's author is kept out of its quorum by login; a
 * login can be renamed and then taken by any other account, an id cannot (the route records it:
 * app/routes/runners.ts). Before, a PR paid with its login's balance whoever held the login: an
 * account that took over a renamed owner's login spent her credits; an owner in debt renamed and had
 * free runs again; and an owner who renamed had her own runners, registered under the old login,
 * verify her PR. Refused now: a login under which another account registered runners; a login other
 * than the one the account first registered runners with (an account is one owner, as for its
 * runners: ineligible above); and an account whose logins together are in debt (a login in another
 * letter case is another ledger account). Registrations without an id say nothing.
 */
export function authorProblem(login: string, id: number, registered: Iterable<Registered>, balanceOf: (login: string) => number, asked: 'pr' | 'issue' = 'pr'): string | null {
  // what the author opened, and how to ask again: a PR is pushed again, a long run's issue asked again by its label
  const [what, again] = asked === 'pr' ? ['PR', ' and push again'] : ['issue', ', then ask again'];
  let first: string | null = null;
  const others = new Set<string>();
  for (const r of registered) {
    if (r.owner_id === undefined) continue;
    if (same(r.owner, login) && r.owner_id !== id) {
      return `The ledger's credits, free runs and debts under ${code(r.owner)} belong to the GitHub account that registered runners as ${code(r.owner)} (id ${r.owner_id}); this ${what}'s author is another account (id ${id}), which holds the login now. A login that changed hands keeps its former owner's record, so it cannot pay for experiments: open the ${what} from an account whose login no other account registered runners under.`;
    }
    if (r.owner_id !== id) continue;
    first ??= r.owner;
    if (r.owner !== login) others.add(r.owner);
  }
  if (first !== null && !same(first, login)) {
    return `This ${what}'s author (GitHub account id ${id}) registered runners as ${code(first)}: an account is one owner whatever its login, so it opens experiments only as ${code(first)} (under another login its own runners would verify them). Rename the account back to ${code(first)}${again}.`;
  }
  const debts = [...others].map((l) => ({ login: l, balance: balanceOf(l) })).filter((d) => d.balance < 0);
  const net = round3(balanceOf(login) + debts.reduce((sum, d) => sum + d.balance, 0));
  if (!debts.length || net >= 0) return null;
  const owed = debts.map((d) => `${code(d.login)} owes ${round3(-d.balance)} credits`).join(', ');
  return `This ${what}'s author (GitHub account id ${id}) registered runners as ${debts.map((d) => code(d.login)).join(', ')}, and ${owed} (credits already spent were reversed). A new login does not lift a debt: no run, free tier included, until the runners of ${code(login)} earn it back (its balance must cover the debt).`;
}

/**
 * Why `login`'s account, created at `createdAt` (GitHub's created_at; null: unknown), may not have
 * free-tier runs, or null. The free tier costs the swarm a run per account: before, any account
 * had it, so N accounts made in a minute bought N times the free compute, while a runner's owner
 * had to be `runners.min_account_age_days` old to earn anything. Now both take the same wait.
 */
export function freeTierProblem(login: string, createdAt: string | null, rules: { minDays: number; runnerMinDays: number; cost: number; balance: number }, now: Date): string | null {
  if (rules.minDays <= 0) return null;
  const created = createdAt ? Date.parse(createdAt) : NaN;
  const need = `The free tier (\`free_runs_per_day\`) is for GitHub accounts at least ${rules.minDays} days old (\`free_tier_min_account_age_days\` of .github/autoresearch.yml)`;
  const pay = `an experiment costs ${rules.cost} credits and @${login} has ${rules.balance}`;
  if (!Number.isFinite(created)) return `${need}, and GitHub did not tell the App when @${login}'s account was made; ${pay}. Push again to retry.`;
  const days = (now.getTime() - created) / DAY_MS;
  if (days >= rules.minDays) return null;
  const from = new Date(created + rules.minDays * DAY_MS).toISOString();
  const earn = days >= rules.runnerMinDays ? 'earn credits by running a runner for the swarm (docs/runners.md)' : `earn credits by running a runner for the swarm (docs/runners.md) once the account is ${rules.runnerMinDays} days old`;
  return `${need}; @${login}'s account is ${Math.floor(days)} days old. It has free-tier runs from ${from.slice(0, 10)} at ${from.slice(11, 16)} UTC: push again then. Until then ${pay}: ${earn}.`;
}
