// The built-in agent of `npm run swarm`: plausible edits of train.ts that still load, and no
// idea proposed twice once the leaderboard's API shows it was tried (by anyone) or is in flight.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { allProposals, addedLinesKey, constantChanges, propose, updatedOnto, type ApiExperiment } from '../../swarm/agent.js';
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

  it('reads a constant change out of an archived diff', () => {
    const next = train.replace(/^const BATCH = \d+;/m, 'const BATCH = 16;').replace(/^const LR = [^;]+;/m, 'const LR = 6e-3;');
    expect(constantChanges(diffOf(train, next)).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'BATCH', from: 32, to: 16 },
      { name: 'LR', from: 3e-3, to: 6e-3 },
    ]);
  });

  // how often each idea is drawn from `current` with the API showing `tried` (400 draws)
  const draws = (current: string, tried: ApiExperiment[]) => {
    const n = new Map<string, number>();
    for (let seed = 1; seed <= 400; seed++) {
      const p = propose(current, tried, new Set(), new Rng(seed))!;
      const t = p.title.replace(/ \(.*$/, '');
      n.set(t, (n.get(t) ?? 0) + 1);
    }
    return (t: string) => (n.get(t) ?? 0) / 400;
  };
  const scored = (from: string, to: string, delta: number, status = 'discarded', steps = 300): ApiExperiment => ({ status, diff: diffOf(from, to), title: null, val_bpb: 3 + delta, delta, steps });

  it('follows a direction the leaderboard shows worked, and turns from one that did not', () => {
    const b16 = train.replace(/^const BATCH = \d+;/m, 'const BATCH = 16;');
    const lrUp = train.replace(/^const LR = [^;]+;/m, 'const LR = 6e-3;');
    const uniform = 1 / allProposals(b16).length;
    // long runs (no short-budget lean): only the history speaks
    const history = [scored(train, b16, -0.2, 'merged', 50_000), scored(train, lrUp, +0.3, 'discarded', 50_000)];
    const f = draws(b16, history);
    // halving the batch worked: halving it again is the likeliest next idea
    expect(f('BATCH 16 -> 8')).toBeGreaterThan(0.3);
    expect(f('BATCH 16 -> 8')).toBeGreaterThan(10 * uniform);
    // raising the learning rate was worse: raising it more is rarely tried; lowering it is likelier than raising it
    expect(f('LR 3e-3 -> 9e-3')).toBeLessThan(uniform / 5);
    expect(f('LR 3e-3 -> 1.5e-3')).toBeGreaterThan(f('LR 3e-3 -> 6e-3') + f('LR 3e-3 -> 9e-3'));
    // with no history, every idea has its chance
    const g = draws(b16, []);
    expect(Math.max(...allProposals(b16).map((p) => g(p.title)))).toBeLessThan(4 * uniform);
  });

  it('leans towards cheaper steps when the runs it reads are short', () => {
    const other = train.replace(/^const INIT_STD = [^;]+;/m, 'const INIT_STD = 0.04;');
    const short = draws(train, [scored(train, other, 0.01, 'discarded', 200)]);
    const long = draws(train, [scored(train, other, 0.01, 'discarded', 50_000)]);
    const cheaper = (f: (t: string) => number) => f('BATCH 32 -> 16') + f('CONTEXT 64 -> 32');
    expect(cheaper(short)).toBeGreaterThan(3 * cheaper(long));
    // before any run shows its steps, the repository's budget says whether runs are short
    const count = (budgetSeconds: number) => {
      let n = 0;
      for (let seed = 1; seed <= 400; seed++) if (/^(BATCH 32 -> 16|CONTEXT 64 -> 32)/.test(propose(train, [], new Set(), new Rng(seed), { budgetSeconds })!.title)) n++;
      return n;
    };
    expect(count(10)).toBeGreaterThan(3 * count(300));
    // and a wider model is drawn less often with short runs than with long ones
    expect(short('N_EMBD 64 -> 128')).toBeLessThan(long('N_EMBD 64 -> 128') / 2);
  });

  it("updates an open PR's change onto a newer main, as GitHub's Update branch does", () => {
    const set = (src: string, name: string, v: string) => src.replace(new RegExp(`^const ${name} = [^;]+;`, 'm'), `const ${name} = ${v};`);
    const pr = set(train, 'BATCH', '16');
    const main = set(train, 'CONTEXT', '32');
    // the merged change stays and the PR's own is added: what its run must test
    expect(updatedOnto(train, pr, main)).toBe(set(main, 'BATCH', '16'));
    // a main that changed the same line: it no longer applies; a main that holds it already: nothing to do
    expect(updatedOnto(train, pr, set(train, 'BATCH', '64'))).toBeNull();
    expect(updatedOnto(train, pr, pr)).toBeNull();
    // a structural edit: a three-way merge of the file
    const elu = allProposals(train).find((p) => p.title.startsWith('MLP: ELU'))!.text;
    expect(updatedOnto(train, elu, main)).toBe(allProposals(main).find((p) => p.title.startsWith('MLP: ELU'))!.text);
  });
});
