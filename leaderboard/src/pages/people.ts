// Logins on the pages: a GitHub login becomes a link to its profile; anything else (a login the
// ledger holds is a runner's or an App's claim) stays text.
import { html, type Trusted } from '../html.js';

/** GitHub's rule for user and organisation names: alphanumerics and single inner hyphens, at most 39. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** an App's bot account, e.g. dependabot[bot] */
const BOT = /^([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})\[bot\]$/;

export function loginUrl(login: string | null): string | null {
  if (!login) return null;
  if (LOGIN.test(login)) return `https://github.com/${login}`;
  const bot = BOT.exec(login);
  return bot ? `https://github.com/apps/${bot[1]}` : null;
}

export function loginLink(login: string | null): Trusted {
  if (!login) return html``;
  const url = loginUrl(login);
  return url ? html`<a href="${url}">${login}</a>` : html`${login}`;
}
