// The archived train.ts diff, rendered at build time with diff2html so a page shows exactly what
// was tested even after the PR branch is gone. diff2html parses, pairs changed lines, marks the
// changed words and escapes file names and code; the markup comes from the templates below.
import { html as diff2html, parse } from 'diff2html';
import type { CompiledTemplates } from 'diff2html/lib/hoganjs-utils.js';
import { createRequire } from 'node:module';
import { trusted, type Trusted } from './html.js';

// diff2html's own template compiler (Hogan), loaded as the CommonJS module it is
const { default: HoganJsUtils } = createRequire(import.meta.url)('diff2html/lib/hoganjs-utils.js') as typeof import('diff2html/lib/hoganjs-utils.js');

// Compact templates in place of diff2html's own: its line markup costs ~250 bytes a line (nested
// divs and spans, an icon, a "Viewed" checkbox); these ~75, with the same class names for what
// matters (d2h-ins/-del/-cntx/-info rows, d2h-code-line-ctn code cells). The +/- prefix is drawn
// by CSS (site.css). On 100,000 pages that is most of the difference between fitting in the
// 1 GB a Pages site may hold and not. {{ }} escapes, {{{ }}} inserts diff2html's escaped markup.
const TEMPLATES: Record<string, string> = {
  'generic-wrapper': '<div class="d2h-wrapper">{{{content}}}</div>',
  'line-by-line-file-diff':
    '<div id="{{fileHtmlId}}" class="d2h-file-wrapper" data-lang="{{file.language}}"><div class="d2h-file-header">{{{filePath}}}</div><table class="d2h-diff-table"><tbody>{{{diffs}}}</tbody></table></div>',
  'generic-file-path': '<span class="d2h-file-name">{{fileDiffName}}</span>{{>fileTag}}',
  'tag-file-changed': '<span class="d2h-tag">CHANGED</span>',
  'generic-block-header': '<tr class="d2h-info"><td></td><td></td><td class="d2h-code-line-ctn">{{{blockHeader}}}</td></tr>',
  'line-by-line-numbers': '<td>{{oldNumber}}</td><td>{{newNumber}}</td>',
  'generic-line': '<tr class="{{type}}">{{{lineNumber}}}<td class="d2h-code-line-ctn">{{{content}}}</td></tr>',
};

// compiled once: given as rawTemplates, diff2html would compile them again for every diff
const COMPILED: CompiledTemplates = Object.fromEntries(Object.entries(TEMPLATES).map(([name, t]) => [name, HoganJsUtils.compile(t)]));

export function renderDiff(text: string): Trusted {
  const files = parse(text);
  // The App archives jsdiff patches, whose ---/+++ lines carry "\t<commit>" after the name;
  // left in, diff2html would show two different names, i.e. a rename.
  for (const f of files) {
    f.oldName = f.oldName.replace(/\t.*$/, '');
    f.newName = f.newName.replace(/\t.*$/, '');
    f.language = f.language.replace(/\t.*$/, '');
  }
  const rendered = diff2html(files, { drawFileList: false, outputFormat: 'line-by-line', compiledTemplates: COMPILED });
  // diff2html writes "/" as "&#x2F;" (6 bytes for 1, and code is full of //): in text and in
  // these quoted class and id attributes a plain slash cannot start or end markup.
  return trusted(rendered.replace(/&#x2F;/g, '/'));
}
