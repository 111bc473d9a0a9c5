// Red team: runners.allow and runners.banned name logins, and a login is only a name: an account
// can rename itself, and the freed login can then be taken by any other account. A banned person
// who never registered runners escaped the list by renaming; a login freed by a rename, taken over,
// inherited its allow. Now an entry may name the account itself, `id:<GitHub account id>` (the
// route records each owner's id: runner_registered.owner_id); logins still work as before.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditLedger } from '../../ledger/index.js';
import { ineligible } from '../../app/policy/eligibility.js';
import { World } from './world.js';
import { world } from './identity-helpers.js';

beforeEach(() => {
  World.last = null;
});

const now = new Date('2026-11-24T12:00:00Z');
const rules = (r: { banned?: string[]; allow?: string[] }) => ({ banned: [], allow: [], min_account_age_days: 0, ...r });
const reg = (owner: string, owner_id?: number) => ({ owner, owner_id, registered_by: 'route' as const, owner_created_at: '2015-01-01T00:00:00Z' });

describe('runners.banned and runners.allow by account id', () => {
  it('a banned account is refused under any login; logins still work as before, in any letter case', () => {
    expect(ineligible(reg('mallory-2', 666), rules({ banned: ['id:666'] }), null, now)).toMatch(/mallory-2's GitHub account \(id 666\) is listed in runners.banned/);
    expect(ineligible(reg('mallory-2', 667), rules({ banned: ['id:666'] }), null, now)).toBeNull();
    expect(ineligible(reg('Mallory', 1), rules({ banned: ['mallory'] }), null, now)).toMatch(/Mallory is listed in runners.banned/);
  });

  it('an allow by id admits the account under any login, and not another account holding its former login', () => {
    const allow = rules({ allow: ['id:42', 'carol'] });
    expect(ineligible(reg('alice', 42), allow, null, now)).toBeNull();
    expect(ineligible(reg('alice-renamed', 42), allow, null, now)).toBeNull();
    expect(ineligible(reg('alice', 4242), allow, null, now)).toMatch(/alice \(GitHub account id 4242\) is not in runners.allow.*`id:4242`/);
    expect(ineligible(reg('carol', 7), allow, null, now)).toBeNull();
    // a registration without an id (an older entry, a fleet runner) is matched by login only
    expect(ineligible(reg('alice'), allow, null, now)).toMatch(/alice is not in runners.allow/);
  });

  it("a banned account's runner registered under a new login earns nothing", async () => {
    // mallory (account 666), listed by id, renamed herself "bob" and registered runner-b
    const w = world({ bob: 666 }, 'max_in_flight: 2\nclose_on_discard: false\nrunners:\n  min_account_age_days: 0\n  banned: ["id:666"]\n');
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-b', 1.9);
    const result = w.entries('result_recorded').find((e) => e.data.runner_name === 'runner-b')!;
    expect(result.data).toMatchObject({ validated: false, reason: expect.stringMatching(/bob's GitHub account \(id 666\) is listed in runners.banned/) });
    expect(w.entries('credit_granted').filter((e) => e.data.login === 'bob')).toEqual([]);
    expect(auditLedger(w.ledger(), { freeRunsPerDay: 3 })).toMatchObject({ ok: true });
  });
});
