// Which GitHub account pays under a login: a PR's author (app/handlers/pull-request.ts) and a long
// run's requester (app/handlers/long-run.ts) alike. The ledger keeps balances by login; the rule
// (by account id) is app/policy/eligibility.ts authorProblem.
import { authorIdMatters, authorProblem } from './policy/eligibility.js';
import type { LedgerView } from './ledger-view.js';

/** Why `user`'s account may not pay under its login, or null; `askId` asks GitHub for its account id, only when the event did not say and it matters. */
export async function authorRefusal(view: LedgerView, user: { login: string; id?: number } | null, askId: () => Promise<number | undefined>): Promise<string | null> {
  if (!user) return null;
  const balances = view.state.balances();
  const balanceOf = (login: string) => balances.get(login)?.balance ?? 0;
  const registered = [...view.registry.values()];
  const id = user.id ?? (authorIdMatters(registered) ? await askId() : undefined);
  return id === undefined ? null : authorProblem(user.login, id, registered, balanceOf);
}
