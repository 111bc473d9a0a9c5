// Red team: a long run ("Draw on the swarm") is paid by the issue's author, a GitHub account, not a
// login. Logins can be renamed and the old one then taken by anyone; the ledger keeps balances by
// login and the runner route records each owner's account id. Before, the issue's login paid
// whoever held it: an account that took over a renamed owner's login spent her credits on long
// runs. (The same rule as a PR's author: test/app/author-identity.test.ts.)
import { describe, it, expect, beforeEach } from '@jest/globals';
import { computeBalances } from '../../ledger/index.js';
import { auditEachWorld, World } from './world.js';
import { form, fund } from './long-run-helpers.js';
import { asAccount, idOf, world } from './identity-helpers.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

const spends = (w: World, login: string) => w.entries('credit_spent').filter((e) => e.data.login === login);

describe('a long run asked for by an account holding another account\'s former login', () => {
  it("cannot spend the credits of the account that registered runners under that login", async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    asAccount(w, 4242);
    await w.openIssue(40, 'alice', form({ target: w.main.slice(0, 7), max_credits: '1800' }));
    expect(w.gh.dispatches).toEqual([]);
    expect(spends(w, 'alice')).toEqual([]);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(2000);
    const [comment] = w.gh.stickyOf(40);
    expect(comment).toContain('### Long run refused');
    expect(comment).toMatch(/registered runners as `alice`.*id \d+.*id 4242/);
    expect(w.gh.issues.get(40)!.labels).toEqual(['long-run:requested', 'long-run:refused']);
  });

  it('a renamed owner is told what to do for an issue, not for a PR', async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    asAccount(w, idOf('alice'));
    await w.openIssue(40, 'alice-2', form({ target: w.main.slice(0, 7), max_credits: '1800' }));
    expect(w.gh.dispatches).toEqual([]);
    const [comment] = w.gh.stickyOf(40);
    expect(comment).toMatch(/This issue's author .* registered runners as `alice`.*Rename the account back to `alice`, then ask again/);
    expect(comment).not.toMatch(/\bPR\b|push again/);
  });

  it('is asked of GitHub when the event does not say which account opened the issue', async () => {
    const w = world({ alice: 7 });
    fund(w, 'runner-a', 2000);
    asAccount(w, null);
    await w.openIssue(40, 'alice', form({ target: w.main.slice(0, 7), max_credits: '1800' }));
    expect(w.gh.dispatches).toEqual([]);
    expect(spends(w, 'alice')).toEqual([]);
  });

  it('the owner herself (the same account id) still pays from her balance', async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    asAccount(w, idOf('alice'));
    await w.openIssue(40, 'alice', form({ target: w.main.slice(0, 7), max_credits: '1800' }));
    expect(w.gh.dispatches).toHaveLength(1);
    expect(spends(w, 'alice').map((e) => e.data.amount)).toEqual([1800]);
  });
});
