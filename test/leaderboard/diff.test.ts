// The archived diffs as the App writes them (jsdiff's createTwoFilesPatch), rendered at build time.
import { describe, expect, it } from '@jest/globals';
import { createTwoFilesPatch } from 'diff';
import { renderDiff } from '../../leaderboard/src/diff.js';
import { sampleDiff } from '../../leaderboard/src/sample-ledger.js';

describe('renderDiff', () => {
  it('shows an App-archived train.ts patch under its file name, removed and added lines as <del> and <ins> with the changed words marked', () => {
    const patch = createTwoFilesPatch('a/trainer/train.ts', 'b/trainer/train.ts', 'const A = 1;\nconst LR = 3e-3;\n', 'const A = 1;\nconst LR = 6e-3;\nconst B = 2;\n', 'a'.repeat(40), 'b'.repeat(40));
    const out = renderDiff(patch).value;
    // the commit jsdiff appends to the name is not part of it
    expect(out).toContain('<div class="diff-name">trainer/train.ts</div>');
    expect(out).toContain('\n const A = 1;\n'); // context keeps its leading space
    expect(out).toContain('<del>const LR = <mark>3e</mark>-3;\n</del>');
    expect(out).toContain('<ins>const LR = <mark>6e</mark>-3;\n</ins>');
    expect(out).toContain('<ins>const B = 2;\n</ins>');
    expect(out).toContain('<span class="hunk">@@ -1,2 +1,3 @@</span>');
  });

  it('is about the size of the patch (a 1 GB site at 100,000 experiments depends on it)', () => {
    const patch = sampleDiff(3, '0.4', '0.5', undefined, 'real', 7); // ~40 lines, as bench:leaderboard's
    expect(patch.split('\n').length).toBeGreaterThanOrEqual(38);
    expect(renderDiff(patch).value.length).toBeLessThan(patch.length * 1.2);
  });

  it('escapes markup in file names and code lines', () => {
    const patch = createTwoFilesPatch('a/<img src=x onerror=alert(1)>.ts', 'b/<img src=x onerror=alert(1)>.ts', 'x\n', '</td><script>alert(2)</script>\n');
    const out = renderDiff(patch).value;
    expect(out).not.toMatch(/<img|<script/);
    expect(out).toContain('&lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
  });

  it('shows text that is not a patch as it is, escaped', () => {
    expect(renderDiff('not a <b>patch</b>').value).toBe('<pre class="diff">not a &lt;b&gt;patch&lt;/b&gt;</pre>');
  });
});
