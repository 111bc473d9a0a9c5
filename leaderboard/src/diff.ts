// The archived train.ts diff, rendered at build time with diff2html so a page shows exactly what
// was tested even after the PR branch is gone. diff2html escapes file names and code lines.
import { html as diff2html, parse } from 'diff2html';
import { trusted, type Trusted } from './html.js';

// diff2html's file header without its icon and "Viewed" checkbox (an interactive review aid):
// 0.7 KB less on each of up to 100,000 pages, against the 1 GB a Pages site may hold.
// {{ }} escapes, as in the template it replaces.
const FILE_HEADER = {
  'generic-file-path': '<span class="d2h-file-name-wrapper"><span class="d2h-file-name">{{fileDiffName}}</span>{{>fileTag}}</span>',
};

export function renderDiff(text: string): Trusted {
  const files = parse(text);
  // The App archives jsdiff patches, whose ---/+++ lines carry "\t<commit>" after the name;
  // left in, diff2html would show two different names, i.e. a rename.
  for (const f of files) {
    f.oldName = f.oldName.replace(/\t.*$/, '');
    f.newName = f.newName.replace(/\t.*$/, '');
    f.language = f.language.replace(/\t.*$/, '');
  }
  const rendered = diff2html(files, { drawFileList: false, outputFormat: 'line-by-line', rawTemplates: FILE_HEADER });
  // Its templates indent every tag; code never spans lines, so newline-plus-indent between tags is
  // layout only. Dropping it halves the page size.
  return trusted(rendered.replace(/>\n\s*</g, '><'));
}
