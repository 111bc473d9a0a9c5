// Strings a runner wrote (result.json: its nonce, device, backend, failure message, ...) as the
// App may show them in markdown: its sticky comment and check runs speak in the App's voice, so a
// runner's text must not render there as markdown (a heading saying "Merged", a link, an image),
// HTML, an @-mention or an issue reference. Plain words pass as they are; anything else is shown
// as inline code on one line, where none of that renders.
const PLAIN = /^[A-Za-z0-9 ._,()+=%'"@-]{1,160}$/;

export function shown(text: string | null | undefined, max = 160): string {
  const s = String(text ?? '');
  // (an @ inside a word, as in `matmul-256x256x256x20@tensorflow`, mentions no one)
  if (PLAIN.test(s) && !/(^|[^A-Za-z0-9_])@/.test(s) && !/www\./i.test(s)) return s;
  return code(s, max);
}

/** `text` as inline code on one line, at most `max` characters. */
export function code(text: string, max = 160): string {
  // one line; no backtick to close the code span early; no pipe to split a table cell
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/`/g, "'").replace(/\|/g, '¦').replace(/\s+/g, ' ').trim();
  const cut = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return `\`${cut || ' '}\``;
}
