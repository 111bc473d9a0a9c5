import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { harnessSha256, harnessSha256Of, isHarnessPath, readHarnessFiles } from '../../trainer/harness-version.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const files = [
  { path: 'trainer/supervisor.ts', content: 'clock' },
  { path: 'trainer/bpb.ts', content: 'math' },
  { path: 'trainer/train.ts', content: 'the candidate' },
  { path: 'README.md', content: 'not harness' },
];

describe('harness and candidate hashes', () => {
  it('covers trainer/ except train.ts, in sorted path order', () => {
    const lines = ['trainer/bpb.ts', 'trainer/supervisor.ts'].map(
      (p) => `${p}\0${createHash('sha256').update(files.find((f) => f.path === p)!.content).digest('hex')}\n`,
    );
    expect(harnessSha256(files)).toBe(createHash('sha256').update(lines.join('')).digest('hex'));
    expect(harnessSha256([...files].reverse())).toBe(harnessSha256(files));
    expect(isHarnessPath('trainer/train.ts')).toBe(false);
    expect(isHarnessPath('trainer/data/brown.ts')).toBe(true);
  });

  it('changes with any harness file and not with the candidate', () => {
    const base = harnessSha256(files);
    expect(harnessSha256(files.map((f) => (f.path === 'trainer/train.ts' ? { ...f, content: 'a better GPT' } : f)))).toBe(base);
    expect(harnessSha256(files.map((f) => (f.path === 'trainer/bpb.ts' ? { ...f, content: 'math!' } : f)))).not.toBe(base);
    expect(harnessSha256([...files, { path: 'trainer/extra.ts', content: '' }])).not.toBe(base);
  });

  it('reads the checkout on disk the same way', () => {
    const onDisk = readHarnessFiles(repo);
    expect(onDisk.some((f) => f.path === 'trainer/supervisor.ts')).toBe(true);
    expect(harnessSha256Of(repo)).toBe(harnessSha256(onDisk));
  });
});
