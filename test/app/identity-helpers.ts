// Accounts and logins in the App's tests: the fake GitHub's account ids, a world whose runners were
// registered through the route with their owners' ids, events as if sent by another account, and
// an owner in debt. Shared by test/app/author-identity.test.ts and test/app/long-run-identity.test.ts.
import { appendEntries, ledgerFiles, type NewEntry } from '../../ledger/index.js';
import { World, CLASS } from './world.js';
import { userIdOf } from './fake-github.js';
import { fund } from './long-run-helpers.js';

/** The fake GitHub's account id of a login (sim/github/fake.ts): what GitHub answers for the account that holds it. */
export const idOf = userIdOf;

/** A world whose runners were registered through the route, with their owners' account ids. */
export function world(ids: Record<string, number> = {}, config?: string): World {
  const w = new World(config === undefined ? {} : { config });
  const reg = (runner: string, owner: string): NewEntry => ({
    type: 'runner_registered',
    data: { runner_name: runner, owner, hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, `owner-${owner}`], registered_by: 'route', owner_created_at: '2015-01-01T00:00:00Z', owner_id: ids[owner] ?? idOf(owner) },
  });
  w.seedLedger([reg('runner-a', 'alice'), reg('runner-b', 'bob'), { type: 'baseline_recorded', data: { hardware_class: CLASS, sha: w.main, mean: 2.0, sigma: 0.01, n: 41, tokens_per_second: 1000, job_ids: ['b1', 'b2', 'b3', 'b4', 'b5'] } }]);
  return w;
}

/** pull_request and issues events reach the App as if sent by account `id` (null: a payload without it, as the reconcile pass builds; idOf: each login's own account, as GitHub sends them). */
export function asAccount(w: World, account: number | null | typeof idOf): void {
  const receive = w.probot.receive.bind(w.probot);
  w.probot.receive = (ev: any) => {
    const user = ev.name === 'pull_request' ? ev.payload.pull_request.user : ev.name === 'issues' ? ev.payload.issue.user : null;
    const id = typeof account === 'function' ? account(user?.login ?? '') : account;
    if (user && id === null) delete user.id;
    else if (user) user.id = id;
    return receive(ev);
  };
}

/** alice's runner earned 300, she spent them on an experiment, then the credit was reversed: -300. */
export function inDebt(w: World): void {
  fund(w, 'runner-a', 300);
  const entries = w.ledger();
  const job = 'spent-then-reversed';
  const news: NewEntry[] = [
    { type: 'job_dispatched', data: { job_id: job, role: 'candidate', repo: 'Codertocat/Hello-World', pr: 1, sha: w.main, author: 'alice', hardware_class: null, eval_seed: 1, budget_seconds: 300, attempt: 1, verifies: null } },
    { type: 'credit_spent', data: { login: 'alice', amount: 300, job_id: job, reason: 'experiment' } },
    { type: 'credit_reversed', data: { login: 'alice', amount: 300, job_id: 'seed-runner-a', reason: 'outvoted' } },
  ];
  const all = [...entries, ...appendEntries(entries, news.map((e) => ({ ...e, time: '2026-11-24T11:40:00.000Z' })))];
  w.gh.refs.set('heads/ledger', w.gh.commit(ledgerFiles(all), w.gh.refs.get('heads/ledger')!, 'debt'));
}
