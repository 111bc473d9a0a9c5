// The archived train.ts diff, rendered at build time with diff2html so a page shows exactly what
// was tested even after the PR branch is gone. diff2html escapes file names and code lines.
import { html as diff2html, parse } from 'diff2html';
import { trusted, type Trusted } from './html.js';

export function renderDiff(text: string): Trusted {
  const rendered = diff2html(parse(text), { drawFileList: false, outputFormat: 'line-by-line' });
  // Its templates indent every tag; code never spans lines, so newline-plus-indent between tags is
  // layout only. Dropping it halves the page size.
  return trusted(rendered.replace(/>\n\s*</g, '><'));
}
