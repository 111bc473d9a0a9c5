// Red-team attacks on the compute-credit economy through long runs ("draw on the swarm",
// app/handlers/long-run.ts): each written as a scenario against the real App with GitHub faked.
// A test that succeeded against the App before its fix says so (and what the fix was); the others
// pin a class of attack no other test covers.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditEachWorld, World, CLASS } from './world.js';
import { form, fund } from './long-run-helpers.js';
import { computeBalances } from '../../ledger/index.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

const longRunSpends = (w: World) => w.entries('credit_spent').filter((e) => /^long run requested/.test(e.data.reason));

describe('a long-run requester', () => {
  // Before: the budget was looked up as LONG_RUN_BUDGETS[value], a plain object, so a body edited
  // to name one of Object.prototype's keys ("constructor", "toString", "__proto__", ...) gave a
  // "budget" that is a function or an object: truthy, so the form parsed; every comparison with
  // it is false, so neither the cap nor the balance refused it; and the run was dispatched with a
  // nonsense budget and a spend whose amount is no number (or, for a budget that JSON drops, none).
  // Now the form reads only the dropdown's own values (Object.hasOwn, app/policy/long-run.ts).
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])('cannot get a run for free with an Object.prototype key (%s) as the training budget', async (budget) => {
    const w = new World();
    const before = w.ledger().length;
    await w.openIssue(60, 'mallory', form({ target: w.main, budget }));
    expect(w.gh.dispatches).toEqual([]);
    expect(w.ledger()).toHaveLength(before);
    expect(w.gh.issues.get(60)!.labels).toEqual(['long-run:requested', 'long-run:refused']);
    expect(w.gh.stickyOf(60)[0]).toContain('**Training budget**');
  });

  // "Most credits to spend" is the requester's cap, and the only price check besides the balance:
  // with a balance that covers the run, a cap of zero, below zero, a fraction under the cost,
  // "NaN", or one that overflows to Infinity refuses it; nothing is charged.
  it.each(['0', '-1800', '1799.999', '1_799', 'NaN', '1e400', '-Infinity', ''])('is held to a "Most credits to spend" of "%s" even when the balance covers the run', async (max) => {
    const w = new World();
    fund(w, 'runner-a', 5000); // alice has 5000, the run costs 1800
    await w.openIssue(61, 'alice', form({ target: w.main, max_credits: max || '_No response_' }));
    expect(w.gh.dispatches).toEqual([]);
    expect(longRunSpends(w)).toEqual([]);
    expect(w.gh.issues.get(61)!.labels).toEqual(['long-run:requested', 'long-run:refused']);
    expect(w.gh.stickyOf(61)[0]).toContain('Most credits to spend');
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(5000);
  });

  // The issue's author pays, never the login the form or a label event names. Bob opens the
  // issue and alice (whose credits would cover it) is named in the body, or a triager labels it.
  it("cannot spend another's balance: the issue's author pays, whoever is named or labels it", async () => {
    const w = new World();
    fund(w, 'runner-a', 2000); // alice
    const body = form({ target: w.main, why: 'On behalf of @alice, paid by alice' });
    await w.openIssue(62, 'bob', body);
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.stickyOf(62)[0]).toContain('@bob has 0 credits and the run costs 1800');
    // a login of another case is another ledger account: ALICE does not draw on alice's
    await w.openIssue(63, 'ALICE', form({ target: w.main }));
    expect(w.gh.dispatches).toEqual([]);
    expect(w.gh.stickyOf(63)[0]).toContain('@ALICE has 0 credits');
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(2000);
  });

  // After a run was scheduled, the author edits the issue (a longer budget, another target) and
  // has the label re-added: the ledger's spend for the issue stops any second run or re-pricing.
  it('cannot re-run or re-price an accepted request by editing it and re-adding the label', async () => {
    const w = new World();
    fund(w, 'runner-a', 20000);
    await w.openIssue(64, 'alice', form({ target: w.main }));
    expect(w.gh.dispatches).toHaveLength(1);
    w.gh.issues.set(64, { labels: ['long-run:requested'] }); // label removed and re-added
    await w.openIssue(64, 'alice', form({ target: w.main, budget: '4 hours', max_credits: '20000' }), { action: 'labeled' });
    expect(w.gh.dispatches).toHaveLength(1);
    expect(longRunSpends(w).map((e) => e.data.amount)).toEqual([1800]);
    expect(w.entries('job_dispatched').at(-1)!.data.budget_seconds).toBe(1800);
  });

  // A long run paid for, then timed out (no result): no refund is recorded, once or twice, however
  // often the overdue sweep or the issue event comes again (the terms say so); and the runner
  // that never reported earns nothing.
  it('gets no refund and no second run for a long run that timed out', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    await w.openIssue(65, 'alice', form({ target: w.main }));
    const d = w.gh.dispatches.at(-1)!;
    const start = w.clock.getTime();
    await w.start(d, 'runner-a');
    w.clock = new Date(start + 56 * 60_000);
    await w.tick();
    await w.tick();
    await w.openIssue(65, 'alice', form({ target: w.main }), { action: 'labeled' });
    expect(w.entries('result_recorded').filter((e) => e.data.job_id === d.inputs.nonce).map((e) => e.data.validated)).toEqual([false]);
    expect(w.gh.dispatches.filter((x) => x.inputs.budget === '1800')).toHaveLength(1);
    expect(w.entries('credit_reversed')).toEqual([]);
    expect(w.entries('credit_granted').filter((e) => e.data.job_id === d.inputs.nonce)).toEqual([]);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(200);
  });

  // Before: a long run is checked by no one (no replica, no replay) and its runner earns budget x
  // its class's weight, for a price of the budget. Requested on a class of one's own runners, the
  // requester's own runner could take it and report anything after waiting out the job: on a class
  // at 16x the reference's pace that is 1,800 credits paid and 28,800 earned, work never done. Now a
  // long run earns nothing on its requester's own runner (ledger/credits.ts), and a grant for one
  // fails `npm run ledger -- verify`.
  it('cannot earn credits with a long run taken by its own runner', async () => {
    const w = new World();
    fund(w, 'runner-a', 2000);
    await w.openIssue(70, 'alice', form({ target: w.main, hardware_class: CLASS, max_credits: '1800' }));
    const d = w.gh.dispatches.at(-1)!;
    await w.complete(d, 'runner-a', 1.7);
    expect(w.entries('result_recorded').at(-1)!.data).toMatchObject({ job_id: d.inputs.nonce, validated: true, runner_owner: 'alice' });
    expect(w.entries('credit_granted').filter((e) => e.data.job_id === d.inputs.nonce)).toEqual([]);
    expect(computeBalances(w.ledger()).get('alice')!.balance).toBe(200);
  });
});
