// The archived diffs as the App writes them (jsdiff's createTwoFilesPatch), rendered by diff2html.
import { describe, expect, it } from '@jest/globals';
import { createTwoFilesPatch } from 'diff';
import { renderDiff } from '../../leaderboard/src/diff.js';

describe('renderDiff', () => {
  it('shows an App-archived train.ts patch as a change of one file, not a rename', () => {
    const patch = createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', 'const LR = 3e-3;\n', 'const LR = 6e-3;\n', 'a'.repeat(40), 'b'.repeat(40));
    const out = renderDiff(patch).value;
    expect(out.match(/class="d2h-file-name">([^<]*)</)?.[1]).toBe('trainer/train.ts');
    expect(out).toContain('CHANGED');
    expect(out).not.toContain('RENAMED');
    expect(out).toContain('data-lang="ts"');
    expect(out).toMatch(/d2h-del[^]*LR = <del>3e<\/del>-3/);
    expect(out).toMatch(/d2h-ins[^]*LR = <ins>6e<\/ins>-3/);
  });

  it('escapes markup in file names and code lines', () => {
    const patch = createTwoFilesPatch('a/<img src=x onerror=alert(1)>.ts', 'b/<img src=x onerror=alert(1)>.ts', 'x\n', '</td><script>alert(2)</script>\n');
    const out = renderDiff(patch).value;
    expect(out).not.toMatch(/<img|<script/);
    expect(out).toContain('&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });
});
