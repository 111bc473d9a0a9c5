// Every string that reaches a page passes through `html` below: interpolated values are escaped
// unless they were produced by `html` (or wrapped in `trusted`) themselves, so a PR title, a login
// or a log line can never become markup.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Unicode's bidirectional controls (embeddings, overrides, isolates and the three marks): invisible,
 * they reorder the text a reader sees, so a diff can show code other than the code that ran (Trojan
 * Source, CVE-2021-42574) and a title or runner name can flip the text after it. They never reach a
 * page as such: each is shown as `<U+202E>`, as GitHub shows them (site.js does the same).
 */
const ESCAPED = /[&<>"'\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeHtml(text: string): string {
  return text.replace(ESCAPED, (c) => ESCAPES[c] ?? `&lt;U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}&gt;`);
}

/** Markup that is already safe: the output of `html` (or of code that builds it from `html`, as diff.ts does). */
export class Trusted {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export const trusted = (markup: string): Trusted => new Trusted(markup);

type Part = string | number | boolean | null | undefined | Trusted | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Trusted) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Trusted {
  let out = strings[0];
  for (let i = 0; i < parts.length; i++) out += render(parts[i]) + strings[i + 1];
  return new Trusted(out);
}

/** Only http(s) links from the ledger become hrefs: a `javascript:` URL in a record stays text. */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** JSON inside <script type="application/json">: `<` is escaped so no `</script>` can close it. */
export function jsonScript(id: string, value: unknown): Trusted {
  const text = JSON.stringify(value).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="${id}">${trusted(text)}</script>`;
}
