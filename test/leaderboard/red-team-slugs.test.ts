// Red team: the file name of a hardware class's progress file (`api/v1/progress/<slug>.json`, and
// the chart of its page). Class names come from runners' registrations (untrusted); the classes the
// swarm measures (`runner doctor`) are already slugs, such as `gpu-h100-80gb`. Before, slugs were
// handed out in the order of the classes' experiment counts, a later class with the same slug
// getting `-2`: a runner owner who registered `GPU H100 80GB` and ran more jobs on it than the real
// class had took `progress/gpu-h100-80gb.json` (agents read it by that name, docs/api.md), and the
// real class's file moved to `gpu-h100-80gb-2.json`; an ordinary change of counts moved them too.
import { describe, expect, it } from '@jest/globals';
import { classSlugs } from '../../leaderboard/src/paths.js';
import { hardwareClasses, type Experiment } from '../../leaderboard/src/experiments.js';

const runs = (cls: string, n: number) => Array.from({ length: n }, () => ({ hardware_class: cls }) as Experiment);

describe('a class whose name slugs to another class\'s', () => {
  it('cannot take the progress file of the class named by that slug', () => {
    const classes = hardwareClasses([...runs('GPU H100 80GB', 5), ...runs('gpu-h100-80gb', 2)], []);
    expect(classes[0]).toBe('GPU H100 80GB'); // the impostor has more experiments
    const slugs = classSlugs(classes);
    expect(slugs.get('gpu-h100-80gb')).toBe('gpu-h100-80gb');
    expect(slugs.get('GPU H100 80GB')).not.toBe('gpu-h100-80gb');
    expect(slugs.get('GPU H100 80GB')).toMatch(/^gpu-h100-80gb-[0-9a-f]{8}$/);
  });

  it('keeps every class\'s slug whatever the order of the classes (counts change between builds)', () => {
    const names = ['gpu-a10g', 'GPU A10G', 'gpu a10g', 'cpu-x', 'gpu-a10g-2', '__proto__', ''];
    const one = classSlugs(names);
    const other = classSlugs([...names].reverse());
    for (const n of names) expect(other.get(n)).toBe(one.get(n));
    expect(new Set(one.values()).size).toBe(names.length);
    for (const s of one.values()) expect(s).toMatch(/^[a-z0-9-]+$/);
    expect(one.get('gpu-a10g')).toBe('gpu-a10g');
    expect(one.get('gpu-a10g-2')).toBe('gpu-a10g-2');
  });
});
