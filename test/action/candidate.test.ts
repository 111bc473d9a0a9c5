// Placing a candidate: only its train.ts, compared with the default branch, with its other
// changes listed — also after main has moved on since the PR branched.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { placeCandidate } from '../../action/src/candidate.js';
import { fixture, World } from './helpers/action-world.js';

let world: World;
let pr: string;
beforeAll(() => {
  world = new World();
  pr = world.pullRequest(21, {
    'trainer/train.ts': fixture('count-bigram.ts').replace('const BATCH = 8;', 'const BATCH = 16;'),
    'notes.md': 'my notes\n',
  });
  world.advanceMain({ 'README.md': '# autoresearch, moved on\n' });
});
afterAll(() => world.close());

describe('placeCandidate', () => {
  it('lists only what the PR changed since it branched, though main has moved', async () => {
    const dir = world.fullClone();
    const placed = await placeCandidate(dir, pr, 21);

    expect(placed.baseSha).toBe(world.mainSha);
    expect(placed.ignored).toEqual(['notes.md']); // not README.md, which main changed
    expect(placed.diff).toContain('-const BATCH = 8;\n+const BATCH = 16;');
    const onDisk = readFileSync(join(dir, 'trainer', 'train.ts'));
    expect(placed.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# autoresearch, moved on\n');
  });

  it('refuses a train.ts that is a symbolic link (it could point at any file on the runner)', async () => {
    const link = world.pullRequest(22, { 'trainer/train.ts': { symlink: '../../../../etc/passwd' } });
    const dir = world.fullClone();
    const before = readFileSync(join(dir, 'trainer', 'train.ts'), 'utf8');
    await expect(placeCandidate(dir, link, 22)).rejects.toThrow(
      `trainer/train.ts at ${link} is not a regular file (git mode 120000); make it a plain text file.`,
    );
    expect(readFileSync(join(dir, 'trainer', 'train.ts'), 'utf8')).toBe(before);
  });
});
