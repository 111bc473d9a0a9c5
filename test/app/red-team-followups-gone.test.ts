// Red team: a PR author makes the dispatched commit unreadable after dispatch (deletes the fork,
// force-pushes so the commit is gone, ...): GitHub answers 404 for train.ts at the job's sha. The
// App compared the honest runner's candidate hash with the placeholder 'missing', refused the
// result as forged and reversed its owner's unconfirmed credits: the author framed every runner
// that took the job. Now a result whose candidate the App cannot read is no one's forgery: it is
// recorded with that reason, nothing is reversed or faulted, and the commit is given up (its code
// is gone: the author pushes again).
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditEachWorld, World } from './world.js';
import { fund } from './long-run-helpers.js';
import { clearFileCache } from '../../app/github/files.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

describe('a candidate commit that GitHub no longer serves', () => {
  it('frames no runner: recorded as unreadable, no reversal, no fault, no run again', async () => {
    const w = new World();
    fund(w, 'runner-a', 600);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 4e-4;\n' });
    const [first] = w.gh.dispatches;
    expect(first).toBeDefined();
    gone(w, head); // the fork deleted, or the commit force-pushed away and collected
    w.gh.dispatches.length = 0;
    await w.complete(first, 'runner-a', 1.9); // an honest result: the hash of the file it ran
    expect(w.entries('credit_reversed')).toEqual([]);
    expect(w.entries('owner_faulted')).toEqual([]);
    const [rec] = w.entries('result_recorded').filter((e) => e.data.job_id === first.inputs.nonce);
    expect(rec.data.validated).toBe(false);
    expect(rec.data.forgery).toBeUndefined();
    expect(rec.data.reason).toContain(`cannot read trainer/train.ts at ${head}`);
    expect(w.gh.dispatches).toEqual([]); // not sent to another runner to be refused again
    const [discarded] = w.entries('experiment_discarded');
    expect(discarded.data).toMatchObject({ pr: 7, sha: head });
  });

  it('frames no verifier either: a claim whose commit is gone before its verify run reports is given up, nobody faulted', async () => {
    const w = new World();
    fund(w, 'runner-b', 600);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 4e-4;\n' });
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9); // claims an improvement
    const verify = w.gh.dispatches.find((d) => d.inputs.role === 'verify')!;
    expect(verify).toBeDefined();
    gone(w, head);
    const before = w.gh.dispatches.length;
    await w.complete(verify, 'runner-b', 1.9);
    expect(w.entries('credit_reversed')).toEqual([]);
    expect(w.entries('owner_faulted')).toEqual([]);
    expect(w.entries('result_recorded').find((e) => e.data.job_id === verify.inputs.nonce)!.data).toMatchObject({ validated: false, reason: expect.stringContaining('cannot read trainer/train.ts') });
    expect(w.gh.dispatches).toHaveLength(before);
    expect(w.entries('experiment_discarded').map((e) => e.data)).toEqual([expect.objectContaining({ pr: 7, sha: head })]);
    expect(w.gh.merges).toEqual([]);
  });
});

/** GitHub answers 404 for `sha` from now on; the runner that checked it out before still has its files. */
function gone(w: World, sha: string): void {
  const saved = w.gh.commits.get(sha)!;
  w.gh.commits.delete(sha);
  clearFileCache(); // the result reaches another process (or this one after a restart) than the one that read it

  const build = w.result.bind(w);
  w.result = ((...a: Parameters<World['result']>) => {
    w.gh.commits.set(sha, saved);
    try {
      return build(...a);
    } finally {
      w.gh.commits.delete(sha);
    }
  }) as World['result'];
}
