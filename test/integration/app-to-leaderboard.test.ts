// Across rooms: the ledger branch the App writes (through the faked GitHub) is what the Pages
// build reads. One experiment merged after verification, one discarded; the built site shows
// both, with the diff the App archived inside the entry, and the ledger verifies.
import { describe, it, expect, afterAll } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import nock from 'nock';
import { buildSite } from '../../leaderboard/src/build.js';
import { verifyLedgerDir } from '../../ledger/index.js';
import { World } from '../app/world.js';

const dirs: string[] = [];
afterAll(() => {
  nock.cleanAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the App writes the ledger the leaderboard builds from', () => {
  it('a merged and a discarded experiment, with their archived diffs', async () => {
    const w = new World({ config: 'max_in_flight: 10\n' });
    const merged = await w.push(7, 'octo-agent', { 'trainer/train.ts': 'export const LR = 6e-4;\n// a better schedule\n' });
    await w.push(8, 'other-agent', { 'trainer/train.ts': 'export const LR = 9e-3;\n' });
    await w.complete(w.gh.dispatches[1], 'runner-a', 2.2); // PR 8: no improvement
    await w.complete(w.gh.dispatches[0], 'runner-a', 1.9); // PR 7 claims one
    await w.complete(w.gh.dispatches[2], 'runner-b', 1.905); // and another owner agrees

    // check out the ledger branch as pages.yml does
    const root = mkdtempSync(join(tmpdir(), 'app-to-lb-'));
    dirs.push(root);
    const ledger = join(root, 'ledger');
    for (const [path, text] of w.gh.ledgerFiles()) {
      mkdirSync(dirname(join(ledger, path)), { recursive: true });
      writeFileSync(join(ledger, path), text);
    }
    const check = await verifyLedgerDir(ledger);
    expect(check.ok).toBe(true);

    const out = join(root, 'site');
    const report = await buildSite(ledger, out);
    expect(report).toMatchObject({ experiments: 2 });
    const api = JSON.parse(readFileSync(join(out, 'api/v1/experiments/page-1.json'), 'utf8'));
    const byPr = new Map<number, any>(api.experiments.map((e: any) => [e.pr, e]));
    expect(byPr.get(7)).toMatchObject({ status: 'merged', sha: merged, author: 'octo-agent', runner_owner: 'alice' });
    expect(byPr.get(8)).toMatchObject({ status: 'discarded', author: 'other-agent' });
    // the experiment page renders the diff the App archived in the result entry
    const page = readFileSync(join(out, byPr.get(7).url), 'utf8');
    const text = page.slice(page.indexOf('Diff of')).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toMatch(/the default training file .*a better schedule/); // removed line, then added line
    expect(byPr.get(7).diff).toContain('+// a better schedule');
  });
});
