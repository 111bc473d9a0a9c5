// What `npm start` (and the container) checks before Probot starts. Probot on its own accepts
// webhooks signed with the secret "development" when WEBHOOK_SECRET is unset, and its setup page
// registers the manifest's own webhook URL; the App refuses both.
import { parse as parseYaml, stringify } from 'yaml';

export type Env = Record<string, string | undefined>;

/** What to start: the App (credentials given), or Probot's setup page (registers the App first). */
export type StartMode = { mode: 'app' } | { mode: 'setup'; webhookUrl: string };

/**
 * The start mode, or the one message saying what is missing and how to fix it. Without APP_ID
 * (and outside production) the setup page registers the App, which needs the public URL the
 * App will receive webhooks on (WEBHOOK_URL) or a smee.io channel for local work (WEBHOOK_PROXY_URL).
 */
export function startMode(env: Env): StartMode | { problem: string } {
  const production = env.NODE_ENV === 'production';
  if (!env.APP_ID && !production) {
    const url = env.WEBHOOK_URL ?? env.WEBHOOK_PROXY_URL;
    if (!url) {
      return {
        problem:
          'To register the App, set WEBHOOK_URL to the public https URL this App will receive webhooks on (e.g. https://app.example.org/api/github/webhooks), or WEBHOOK_PROXY_URL to a smee.io channel for local work; or set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET of an App already registered (docs/app.md).',
      };
    }
    if (!isHttpUrl(url)) return { problem: `${env.WEBHOOK_URL ? 'WEBHOOK_URL' : 'WEBHOOK_PROXY_URL'} is "${url}", not an http(s) URL; set it to where GitHub should deliver webhooks (docs/app.md).` };
    return { mode: 'setup', webhookUrl: url };
  }
  const missing = [
    !env.APP_ID && 'APP_ID',
    !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH && 'PRIVATE_KEY (or PRIVATE_KEY_PATH)',
    !env.WEBHOOK_SECRET && 'WEBHOOK_SECRET',
  ].filter((m): m is string => Boolean(m));
  if (missing.length) {
    return {
      problem: `The App will not start without ${missing.join(', ')}: without a webhook secret anyone could send it events, and without the private key it cannot act. Set them from the App's settings page (or register the App first: start without APP_ID and NODE_ENV=production, see docs/app.md).`,
    };
  }
  if (env.WEBHOOK_SECRET === 'development') return { problem: 'WEBHOOK_SECRET is "development", the value Probot uses when none is set; set the secret from the App\'s settings page.' };
  return { mode: 'app' };
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The manifest Probot's setup page posts to GitHub: `app/app.yml` with the operator's webhook URL.
 * Probot spreads the file over what it generates, so a URL in the file would win over any other;
 * the redirect URL is left to Probot (the setup page's own address).
 */
export function setupManifest(appYml: string, webhookUrl: string): string {
  const manifest = parseYaml(appYml) as Record<string, unknown>;
  delete manifest.redirect_url;
  manifest.hook_attributes = { ...((manifest.hook_attributes as object) ?? {}), url: webhookUrl, active: true };
  return stringify(manifest);
}
