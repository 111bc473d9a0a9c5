// The built-in agent of `npm run swarm`: plausible edits of train.ts that still load, and no
// idea proposed twice once the leaderboard's API shows it was tried (by anyone) or is in flight.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { allProposals, addedLinesKey, propose, type ApiExperiment } from '../../swarm/agent.js';
import { Rng } from '../../sim/rng.js';

const train = readFileSync(new URL('../../trainer/train.ts', import.meta.url), 'utf8');
const diffOf = (a: string, b: string) => createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', a, b);

describe('the built-in agent', () => {
  it('proposes constant and structural edits of the real train.ts, each changing it', () => {
    const all = allProposals(train);
    expect(all.length).toBeGreaterThan(20);
    expect(all.map((p) => p.title)).toEqual(expect.arrayContaining([expect.stringMatching(/^LR /), expect.stringMatching(/^N_LAYER /), expect.stringMatching(/^WARMUP /), 'MLP: ELU instead of ReLU']));
    for (const p of all) {
      expect(p.text).not.toBe(train);
      expect(p.key).not.toBe('');
      // the model stays well formed: width divisible by the heads
      const c = (n: string) => Number(new RegExp(`^const ${n} = ([0-9]+);`, 'm').exec(p.text)![1]);
      expect(c('N_EMBD') % c('N_HEAD')).toBe(0);
    }
  });

  it('never proposes what the API shows as tried or what is in flight, and says so when all is tried', () => {
    const rng = new Rng(3);
    const all = allProposals(train);
    const tried: ApiExperiment[] = [];
    const inFlight = new Set<string>([all[0].key]);
    const seen = new Set<string>();
    for (let i = 0; i < all.length - 1; i++) {
      const p = propose(train, tried, inFlight, rng)!;
      expect(p).not.toBeNull();
      expect(seen.has(p.key)).toBe(false);
      expect(p.key).not.toBe(all[0].key);
      seen.add(p.key);
      // the leaderboard archives the diff against main, with its comments: the key reads through them
      tried.push({ status: i % 2 ? 'merged' : 'discarded', diff: diffOf(train, p.text), title: p.title, val_bpb: 3 });
      expect(addedLinesKey(tried[tried.length - 1].diff!)).toBe(p.key);
    }
    expect(propose(train, tried, inFlight, rng)).toBeNull();
  });
});
