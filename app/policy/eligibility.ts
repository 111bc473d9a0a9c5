// Who may count. Pure: the owner's registration (from the ledger), the ban list and trust state
// (the ledger's), the repository's settings and the time in; a reason to refuse, or null.
// Applied when a runner registers (the route) and again to every result (rules change, bans happen).
import type { TrustBook } from '../../ledger/index.js';
import type { RunnerSettings } from '../../runner/protocol.js';

export interface Registration {
  owner: string;
  /** the route's registrations record the owner's account creation time; an admin's fleet labels do not need one */
  owner_created_at?: string | null;
  registered_by?: 'route' | 'labels';
}

const DAY_MS = 86_400_000;
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** `trust`: the ledger's bans (its TrustBook, or any lookup of owner_banned entries). */
export function ineligible(reg: Registration, rules: Pick<RunnerSettings, 'banned' | 'allow' | 'min_account_age_days'>, trust: Pick<TrustBook, 'banned'> | null, now: Date): string | null {
  const login = reg.owner;
  if (rules.banned.some((b) => same(b, login))) return `${login} is listed in runners.banned of .github/autoresearch.yml`;
  const banned = trust?.banned(login);
  if (banned) return `${login} is banned by the ledger (${banned})`;
  if (rules.allow.length && !rules.allow.some((a) => same(a, login))) return `${login} is not in runners.allow of .github/autoresearch.yml`;
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
