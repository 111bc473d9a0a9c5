// Red team: a PR's author is a GitHub account, not a login. Logins can be renamed (the old one is
// then free for anyone to take), ids cannot; the ledger keeps balances and debts by login and the
// runner route records each owner's account id (`runner_registered.owner_id`). A PR pays with the
// balance of its author's login: before, whoever held that login now did, and an owner in debt
// shed the debt by renaming. Each attack is a scenario against the real App with GitHub faked.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { computeBalances, type NewEntry } from '../../ledger/index.js';
import { auditEachWorld, World, CLASS } from './world.js';
import { fund } from './long-run-helpers.js';
import { asAccount, idOf, inDebt, world } from './identity-helpers.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

const spends = (w: World, login: string) => w.entries('credit_spent').filter((e) => e.data.login === login);

describe("a PR author who holds another account's former login", () => {
  // alice (an owner with runners and 2000 credits) renames her account; another account takes the
  // login "alice" and opens PRs. Before: each was dispatched and paid from alice's balance.
  it("cannot spend the credits of the account that registered runners under that login", async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    asAccount(w, 4242);
    await w.push(7, 'alice', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toEqual([]);
    expect(spends(w, 'alice')).toEqual([]);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(2000);
    const [rejected] = w.entries('experiment_rejected');
    expect(rejected.data.problems.join(' ')).toMatch(/registered runners as `alice`.*id \d+.*id 4242/);
    expect(w.gh.stickyOf(7)[0]).toContain('id 4242');
    expect(w.gh.labelsOf(7)).toEqual(['experiment:invalid']);
  });

  it('is asked by the App which account it is when the event does not say (the reconcile pass)', async () => {
    // the ledger ties "alice" to another account than the one GitHub says holds it now
    const w = world({ alice: 7 });
    fund(w, 'runner-a', 2000);
    asAccount(w, null);
    await w.push(7, 'alice', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toEqual([]);
    expect(spends(w, 'alice')).toEqual([]);
  });

  it('is still the owner herself when the account ids match: she pays from her balance', async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    asAccount(w, idOf('alice'));
    await w.push(7, 'alice', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(spends(w, 'alice').map((e) => e.data.amount)).toEqual([300]);
  });
});

describe('an owner in debt', () => {
  // alice's spent credits were reversed (-300): no run, free tier included, until she repays. She
  // renames her account (to another login, or the same one in other letter case: GitHub allows
  // both; the ledger's accounts are by exact login) and opens a PR. Before: a free-tier run.
  it.each([
    ['alice-2', /registered runners as `alice`: an account is one owner/],
    ['Alice', /`alice` owes 300 credits/],
  ])('cannot shed the debt by renaming the account to %s', async (login, why) => {
    const w = world();
    inDebt(w);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(-300);
    asAccount(w, idOf('alice'));
    await w.push(7, login, { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toEqual([]);
    expect(spends(w, login)).toEqual([]);
    const [rejected] = w.entries('experiment_rejected');
    expect(rejected.data.problems.join(' ')).toMatch(why);
  });

  it('a newcomer with nothing, whose account registered nothing, still gets the free tier', async () => {
    const w = world();
    inDebt(w);
    asAccount(w, 99);
    await w.push(7, 'carol', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(spends(w, 'carol').map((e) => e.data.reason)).toEqual(['free_tier']);
  });
});

describe('one GitHub account under two logins', () => {
  // alice registers runners, renames her account to alice-2 and registers runners again (the route
  // allows it: neither login is banned or another account's). Her two logins were two owners: her
  // second runner verified her first runner's claim, a merge resting on one account. Now an account
  // counts under the login it first registered runners with; the other's results count nowhere.
  it("cannot verify its own runner's claim under its second login", async () => {
    const w = world({ 'alice-2': idOf('alice') });
    w.seedLedger([
      ...w.ledger().filter((e) => e.type !== 'runner_registered' || (e.data as { owner: string }).owner === 'alice').map(({ type, data }) => ({ type, data }) as NewEntry),
      { type: 'runner_registered', data: { runner_name: 'runner-b', owner: 'alice-2', hardware_class: CLASS, labels: ['self-hosted', 'autoresearch', CLASS, 'owner-alice-2'], registered_by: 'route', owner_created_at: '2015-01-01T00:00:00Z', owner_id: idOf('alice') } },
    ]);
    w.gh.runners[1].labels = ['self-hosted', 'autoresearch', CLASS, 'owner-alice-2'];
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9);
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify')!;
    expect(verify.inputs.runner_label).toBe('owner-alice-2');
    await w.complete(verify, 'runner-b', 1.905);
    expect(w.gh.merges).toEqual([]);
    expect(w.entries('experiment_merged')).toEqual([]);
    const refused = w.entries('result_recorded').find((e) => e.data.runner_name === 'runner-b')!;
    expect(refused.data).toMatchObject({ validated: false, reason: expect.stringMatching(/alice-2's GitHub account \(id \d+\) registered runners as alice first/) });
    expect(w.entries('credit_granted').filter((e) => e.data.login === 'alice-2')).toEqual([]);
  });
});

describe('an owner who renamed, as a PR author', () => {
  // alice's runners are registered as alice; she renames the account to alice-2 and opens a PR.
  // Before: the author alice-2 and the runner owner alice were two people: her own runner verified
  // her PR (the PR's author never counts toward its quorum, by login). Now the account opens
  // experiments only under the login it registered runners with.
  it('cannot have its own runners verify its PR under its new login', async () => {
    const w = world();
    asAccount(w, idOf('alice'));
    await w.push(7, 'alice-2', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    const first = w.gh.dispatches[0];
    if (first) {
      await w.complete(first, 'runner-b', 1.9);
      const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify');
      if (verify) await w.complete(verify, 'runner-a', 1.905);
    }
    expect(w.gh.merges).toEqual([]);
    expect(w.gh.dispatches).toEqual([]);
    const [rejected] = w.entries('experiment_rejected');
    expect(rejected.data.problems.join(' ')).toMatch(/registered runners as `alice`.*only as `alice`/);
  });
});
