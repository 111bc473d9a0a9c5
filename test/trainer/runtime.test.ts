import { describe, expect, it } from '@jest/globals';
import { childEntry, COMPILED, DEFAULT_CANDIDATE } from '../../trainer/runtime.js';

describe('trainer/runtime', () => {
  it('knows it runs from TypeScript here: tsx children and trainer/train.ts', () => {
    expect(COMPILED).toBe(false);
    expect(DEFAULT_CANDIDATE).toBe('trainer/train.ts');
    expect(childEntry('train', 'none')).toEqual({ nodeArgs: ['--import', 'tsx'], worker: 'trainer/train-worker.ts' });
    expect(childEntry('eval', 'docker')).toEqual({ nodeArgs: ['--import', 'tsx'], worker: 'trainer/eval-worker.ts' });
  });

  it('compiled (the installed package), runs the JavaScript workers with plain node', () => {
    expect(childEntry('train', 'none', true)).toEqual({ nodeArgs: [], worker: 'trainer/train-worker.js' });
    expect(childEntry('eval', 'none', true)).toEqual({ nodeArgs: [], worker: 'trainer/eval-worker.js' });
  });

  it('compiled, refuses docker isolation with a way out (the image runs a checkout\'s sources)', () => {
    expect(() => childEntry('train', 'docker', true)).toThrow(/from a checkout: npm run experiment -- --isolation docker/);
  });
});
