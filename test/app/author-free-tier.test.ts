// Red team: free-tier Sybils. Every author whose balance does not cover an experiment gets
// `free_runs_per_day` runs a day at the swarm's cost. Before, any account did, however new: N
// accounts made in a minute bought N times the free compute (runner owners must be
// runners.min_account_age_days old, authors nothing). Now the free tier is for accounts at least
// `free_tier_min_account_age_days` old (by default runners.min_account_age_days, 30) (GitHub's created_at of the user: the webhook's user object
// does not carry it, so the App asks GET /users/{login}).
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditEachWorld, World } from './world.js';
import { fund } from './long-run-helpers.js';
import { asAccount } from './identity-helpers.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

// the swarm's default: runner owners' accounts at least 30 days old, and the free tier follows it
const DEFAULTS = 'max_in_flight: 2\nclose_on_discard: false\nrunners:\n  min_account_age_days: 30\n';
const daysAgo = (w: World, d: number) => new Date(w.clock.getTime() - d * 86_400_000).toISOString();
/** A world with the swarm's default ages. */
const world = (config = DEFAULTS) => new World({ config });
const freeSpends = (w: World) => w.entries('credit_spent').filter((e) => e.data.reason === 'free_tier');

describe('free-tier runs of new accounts', () => {
  it('five accounts made this week get no free run between them; each is told when it becomes eligible', async () => {
    const w = world();
    for (let i = 1; i <= 5; i++) {
      w.gh.accounts.set(`sybil-${i}`, { created_at: daysAgo(w, 2) });
      await w.push(i, `sybil-${i}`, { 'trainer/train.ts': `export const LR = ${i}e-4;\n` });
    }
    expect(w.gh.dispatches).toEqual([]);
    expect(freeSpends(w)).toEqual([]);
    const rejected = w.entries('experiment_rejected');
    expect(rejected).toHaveLength(5);
    expect(rejected[0].data.problems.join(' ')).toMatch(/at least 30 days old.*free_tier_min_account_age_days.*account is 2 days old.*from 2026-12-22 at 12:00 UTC: push again then/);
    expect(w.gh.stickyOf(1)[0]).toMatch(/earn credits by running a runner/);
    expect(w.gh.labelsOf(1)).toEqual(['experiment:invalid']);
  });

  it('an account old enough still gets its free run', async () => {
    const w = world();
    w.gh.accounts.set('veteran', { created_at: daysAgo(w, 31) });
    await w.push(7, 'veteran', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['veteran']);
  });

  it('a new account whose balance covers the run pays with it (no free tier asked for)', async () => {
    const w = world();
    fund(w, 'runner-a', 2000);
    w.gh.accounts.set('alice', { created_at: daysAgo(w, 1) });
    await w.push(7, 'alice', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(w.entries('credit_spent').map((e) => [e.data.login, e.data.reason])).toEqual([['alice', 'experiment on PR #7']]);
  });

  it('nor when the queue drains after the balance that covered its PRs at intake was spent', async () => {
    // alice (1 day old) has 600 credits: each of her two PRs is covered when queued (300 each),
    // a third too; the queue drains later and the third found her balance spent
    const w = world('max_in_flight: 1\nclose_on_discard: false\nrunners:\n  min_account_age_days: 30\n');
    fund(w, 'runner-a', 600);
    w.gh.accounts.set('alice', { created_at: daysAgo(w, 1) });
    w.gh.accounts.set('veteran', { created_at: daysAgo(w, 400) });
    await w.push(9, 'veteran', { 'trainer/train.ts': 'export const LR = 9e-4;\n' }); // holds the one slot
    for (let i = 1; i <= 3; i++) await w.push(i, 'alice', { 'trainer/train.ts': `export const LR = ${i}e-4;\n` });
    expect(w.gh.labelsOf(3)).toEqual(['experiment:queued']);
    for (let k = 0; k < 3 && w.gh.dispatches[k]; k++) await w.complete(w.gh.dispatches[k], 'runner-b', 2.5); // bob's runner: alice earns nothing meanwhile
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['veteran']);
    expect(w.entries('credit_spent').filter((e) => e.data.login === 'alice').map((e) => e.data.reason)).toEqual(['experiment on PR #1', 'experiment on PR #2']);
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '3')).toEqual([]);
  });

  it('free_tier_min_account_age_days: 0 gives the free tier to any account, as before', async () => {
    const w = world(`${DEFAULTS}free_tier_min_account_age_days: 0\n`);
    w.gh.accounts.set('newbie', { created_at: daysAgo(w, 0) });
    await w.push(7, 'newbie', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['newbie']);
  });
});

describe('free-tier runs of one account under two logins', () => {
  // carol (account 99) uses the day's 3 free runs, renames her account to carol-2 and pushes again.
  // Before: free runs were counted by login, so each rename gave 3 more (6 a day with one rename).
  const LEGACY = 'max_in_flight: 10\nclose_on_discard: false\n';

  it('a renamed account has no free run left today under its new login', async () => {
    const w = new World({ config: LEGACY });
    asAccount(w, 99);
    for (let i = 1; i <= 3; i++) await w.push(i, 'carol', { 'trainer/train.ts': `export const LR = ${i}e-4;\n` });
    await w.push(4, 'carol-2', { 'trainer/train.ts': 'export const LR = 9e-4;\n' });
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['carol', 'carol', 'carol']);
    expect(w.gh.labelsOf(4)).toEqual(['experiment:queued']);
    expect(w.gh.stickyOf(4)[0]).toMatch(/no free-tier run left today/);
  });

  it('nor when the queue drains later (the queued entry records the account)', async () => {
    const w = new World({ config: 'max_in_flight: 1\nclose_on_discard: false\n' });
    asAccount(w, 99);
    await w.push(1, 'carol', { 'trainer/train.ts': 'export const LR = 1e-4;\n' });
    await w.push(2, 'carol', { 'trainer/train.ts': 'export const LR = 2e-4;\n' });
    await w.push(3, 'carol', { 'trainer/train.ts': 'export const LR = 3e-4;\n' });
    await w.push(4, 'carol-2', { 'trainer/train.ts': 'export const LR = 4e-4;\n' });
    for (let k = 0; k < 3; k++) await w.complete(w.gh.dispatches[k], k % 2 ? 'runner-a' : 'runner-b', 2.5);
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['carol', 'carol', 'carol']);
    expect(w.gh.dispatches.filter((d) => d.inputs.pr === '4')).toEqual([]);
  });

  it('another account still has its own free runs', async () => {
    const w = new World({ config: LEGACY });
    for (let i = 1; i <= 3; i++) await w.push(i, 'carol', { 'trainer/train.ts': `export const LR = ${i}e-4;\n` });
    await w.push(4, 'dave', { 'trainer/train.ts': 'export const LR = 9e-4;\n' });
    expect(freeSpends(w).map((e) => e.data.login)).toEqual(['carol', 'carol', 'carol', 'dave']);
  });
});
