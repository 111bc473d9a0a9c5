// Red team: the App's sticky comment is found by a hidden marker. Before, any bot's comment that
// started with the marker was taken for the App's own: another App installed on the repository
// (or a workflow's github-actions[bot] echoing a PR's text) that posts the marker first had the
// App write its verdicts into that comment (overwriting the other bot's, which can edit or delete
// it again: the PR's status lost), or fail on it. Now only a comment by the App's own bot user
// (`<slug>[bot]`, learnt from GET /app) is its sticky.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { STICKY_MARKER } from '../../app/github/sticky-comment.js';
import { auditEachWorld, World } from './world.js';
import { form } from './long-run-helpers.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

/** Another bot's comment on issue or PR `n`, starting with the App's marker. */
function impostor(w: World, n: number, user = 'other-app[bot]'): { id: number; body: string } {
  const c = { id: 1 + w.gh.comments.size, issue: n, body: `${STICKY_MARKER}\nThis is ${user}'s own comment.`, user };
  w.gh.comments.set(c.id, { ...c });
  return c;
}
const byApp = (w: World, n: number) => [...w.gh.comments.values()].filter((c) => c.issue === n && c.user === undefined).map((c) => c.body);

describe("another bot's comment that starts with the sticky marker", () => {
  it('is left alone on a PR: the App writes its state into a comment of its own', async () => {
    const w = new World();
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 1e-3;\n' });
    const other = impostor(w, 7);
    await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 2e-3;\n' }, 'synchronize');
    expect(w.gh.comments.get(other.id)!.body).toBe(other.body);
    expect(byApp(w, 7)).toHaveLength(1);
    expect(byApp(w, 7)[0]).toContain('Experiment running');
  });

  it("is left alone on a long-run issue: the App's refusal is its own comment", async () => {
    const w = new World();
    const other = impostor(w, 40, 'github-actions[bot]');
    await w.openIssue(40, 'carol', form({ target: w.main.slice(0, 7) }));
    expect(w.gh.comments.get(other.id)!.body).toBe(other.body);
    expect(byApp(w, 40)).toHaveLength(1);
    expect(byApp(w, 40)[0]).toContain('Long run refused');
  });

  it("the App's own sticky is still found and edited in place, with the impostor after it", async () => {
    const w = new World();
    await w.openIssue(40, 'carol', form({ target: w.main.slice(0, 7) }));
    impostor(w, 40);
    await w.openIssue(40, 'carol', form({ target: w.main.slice(0, 7) }), { action: 'labeled' });
    expect(byApp(w, 40)).toHaveLength(1);
  });
});
