// The archived train.ts diff, rendered at build time so a page shows exactly what was tested even
// after the PR branch is gone, coloured without JavaScript. jsdiff (the library the App archives
// the patches with) parses it and marks the changed words of a line replaced by one other line.
//
// The markup is the patch itself in a <pre>, each removed line a <del>, each added one an <ins>
// (the elements that mean "removed" and "added", to a screen reader too; the -/+ is drawn by
// CSS, so copying a line copies the code), context lines as text with their leading space:
// about 1.1 times the patch's size. diff2html's table (line numbers, a row per line) was 3.5 KB
// for a 40-line patch even with compact templates, and on 100,000 pages that was the difference
// between a site under GitHub Pages' 1 GB and one over it.
import { diffWordsWithSpace, parsePatch } from 'diff';
import { html, trusted, type Trusted } from './html.js';

/** jsdiff writes "name\t<commit>" on the ---/+++ lines: the name alone. */
const fileName = (name: string | undefined) => (name ?? '').replace(/\t.*$/, '').replace(/^[ab]\//, '');

/**
 * Lines longer than this are not word-diffed: the word diff is quadratic in a line's words (two
 * 35 KB lines took 10-40 s, and a main that once merged a long line makes every later diff of it
 * one), so such a pair is shown as two whole lines. Real code lines are far shorter.
 */
export const MAX_MARKED_LINE = 400;

/** One removed line and the line that replaced it, with the words that differ marked. */
function pair(removed: string, added: string): [Trusted, Trusted] {
  if (removed.length > MAX_MARKED_LINE || added.length > MAX_MARKED_LINE) return [html`${removed}`, html`${added}`];
  const parts = diffWordsWithSpace(removed, added);
  const side = (keep: 'removed' | 'added') =>
    trusted(parts.map((p) => (p.added && keep === 'removed') || (p.removed && keep === 'added') ? '' : p.added || p.removed ? html`<mark>${p.value}</mark>`.value : html`${p.value}`.value).join(''));
  return [side('removed'), side('added')];
}

export function renderDiff(text: string): Trusted {
  const files = parsePatch(text);
  if (!files.length || files.every((f) => !f.hunks.length)) return html`<pre class="diff">${text}</pre>`;
  return html`${files.map((f) => {
    const before = fileName(f.oldFileName);
    const after = fileName(f.newFileName);
    const name = before === after || !before || before === '/dev/null' ? after : after === '/dev/null' ? before : `${before} → ${after}`;
    const lines: Trusted[] = [];
    for (const h of f.hunks) {
      lines.push(html`<span class="hunk">@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@</span>\n`);
      const l = h.lines;
      for (let i = 0; i < l.length; ) {
        // a run of removed lines and the run of added ones after it: the k-th of each are a pair
        // whose changed words are marked; the lines left over are shown whole
        let r = i;
        while (r < l.length && l[r][0] === '-') r++;
        let a = r;
        while (a < l.length && l[a][0] === '+') a++;
        const pairs = Math.min(r - i, a - r);
        if (pairs > 0) {
          const paired = Array.from({ length: pairs }, (_, k) => pair(l[i + k].slice(1), l[r + k].slice(1)));
          paired.forEach(([del]) => lines.push(html`<del>${del}\n</del>`));
          for (let k = i + pairs; k < r; k++) lines.push(html`<del>${l[k].slice(1)}\n</del>`);
          paired.forEach(([, ins]) => lines.push(html`<ins>${ins}\n</ins>`));
          for (let k = r + pairs; k < a; k++) lines.push(html`<ins>${l[k].slice(1)}\n</ins>`);
          i = a;
          continue;
        }
        const line = l[i++];
        if (line[0] === '-') lines.push(html`<del>${line.slice(1)}\n</del>`);
        else if (line[0] === '+') lines.push(html`<ins>${line.slice(1)}\n</ins>`);
        else if (line[0] === '\\') lines.push(html`<span class="hunk">${line}</span>\n`);
        else lines.push(html`${line}\n`); // a context line keeps its leading space: it lines up with the -/+ drawn by CSS
      }
    }
    return html`<div class="diff-file"><div class="diff-name">${name}</div><pre class="diff">${lines}</pre></div>`;
  })}`;
}
