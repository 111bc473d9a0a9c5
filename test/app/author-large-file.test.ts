// Red team: a train.ts too large for GitHub's contents API. Up to 1 MB the API answers a file's
// bytes; from 1 MB to 100 MB it answers the file with `content: ""` and `encoding: "none"` (the
// bytes only through the raw media type or the git blob). The App read that as an empty file: a
// train.ts of 1 MB passed `max_file_bytes` (64 KB), was dispatched, and an honest runner that ran
// it reported the sha256 of the real file, which the App, comparing it with the sha256 of "", took
// for a forged result: that owner's unconfirmed credits were reversed. A PR author could so reverse
// the credits of every runner that took the job.
import { describe, it, expect, beforeEach } from '@jest/globals';
import { auditEachWorld, World } from './world.js';
import { fund } from './long-run-helpers.js';
import { recordedCalls } from '../helpers/openapi.js';

beforeEach(() => {
  World.last = null;
});
auditEachWorld();

const big = `export const LR = 3e-4;\n${'// padding to pass 1 MB: the contents API then answers no bytes\n'.repeat(15_700)}`;

describe('a train.ts of more than 1 MB', () => {
  it('is refused for its size, not run as an empty file, and frames no runner', async () => {
    const w = new World();
    expect(big.length).toBeGreaterThan(1_000_000);
    expect(big.length).toBeLessThan(1 << 20); // the Action places it (its own limit is 1 MiB)
    fund(w, 'runner-a', 600);
    const head = await w.push(7, 'octo-agent', { 'trainer/train.ts': big });
    const first = w.gh.dispatches[0];
    if (first) await w.complete(first, 'runner-a', 1.9); // (before: refused as forged, alice's credit reversed)
    expect(w.entries('credit_reversed')).toEqual([]);
    expect(w.gh.dispatches).toEqual([]);
    const [rejected] = w.entries('experiment_rejected');
    expect(rejected.data).toMatchObject({ pr: 7, sha: head, problems: [`\`trainer/train.ts\` is ${big.length} bytes; the limit is 65536. Make it smaller.`] });
    expect(w.gh.labelsOf(7)).toEqual(['experiment:invalid']);
    expect(recordedCalls()).toContain('GET /repos/{owner}/{repo}/git/blobs/{file_sha}'); // its bytes, from its git blob
  });

  it('is refused for its size without downloading a file of many megabytes', async () => {
    const w = new World();
    const huge = `export const LR = 3e-4;\n${'x'.repeat(9 << 20)}\n`;
    await w.push(7, 'octo-agent', { 'trainer/train.ts': huge });
    expect(w.gh.dispatches).toEqual([]);
    expect(w.entries('experiment_rejected')[0].data.problems).toEqual([`\`trainer/train.ts\` is ${huge.length} bytes; the limit is 65536. Make it smaller.`]);
    expect(recordedCalls().filter((c) => c.includes('/git/blobs/'))).toEqual([]);
  });
});
