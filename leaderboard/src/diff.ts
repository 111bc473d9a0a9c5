// The archived train.ts diff, rendered at build time with diff2html so a page shows exactly what
// was tested even after the PR branch is gone. diff2html escapes file names and code lines.
import { html as diff2html, parse } from 'diff2html';
import { trusted, type Trusted } from './html.js';

export function renderDiff(text: string): Trusted {
  const files = parse(text);
  // The App archives jsdiff patches, whose ---/+++ lines carry "\t<commit>" after the name;
  // left in, diff2html would show two different names, i.e. a rename.
  for (const f of files) {
    f.oldName = f.oldName.replace(/\t.*$/, '');
    f.newName = f.newName.replace(/\t.*$/, '');
  }
  const rendered = diff2html(files, { drawFileList: false, outputFormat: 'line-by-line' });
  // Its templates indent every tag; code never spans lines, so newline-plus-indent between tags is
  // layout only. Dropping it halves the page size.
  return trusted(rendered.replace(/>\n\s*</g, '><'));
}
