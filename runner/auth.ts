// Who the volunteer is, to GitHub: a token they pass, or a device-flow login in the browser.
// The token only ever goes to the App, which accepts it only if GitHub issued it to the App (the
// device flow here) and uses it for `GET /user`; the runner process and the jobs never see it.
import { createOAuthDeviceAuth } from '@octokit/auth-oauth-device';
import { Octokit } from '@octokit/rest';

export interface TokenSource {
  token: string;
  /** where it came from, for messages (never the token itself) */
  source: string;
  /** log in again (or renew with the refresh token) when the App says the token expired; null when the user passed it */
  renew: (() => Promise<TokenSource>) | null;
}

// only the swarm's own variable: $GH_TOKEN and $GITHUB_TOKEN hold gh's or a workflow's token, which
// the App refuses (not issued to it), and would stand in the way of the device-flow login
export const TOKEN_ENV = 'AUTORESEARCH_GITHUB_TOKEN';
const ENV_NAMES = [TOKEN_ENV];

export async function resolveToken(opts: {
  clientId?: string;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** GitHub's API base; GitHub Enterprise or a test server */
  apiBaseUrl?: string;
}): Promise<TokenSource> {
  const env = opts.env ?? process.env;
  for (const name of ENV_NAMES) {
    if (env[name]) return { token: env[name]!, source: `$${name}`, renew: null };
  }
  if (!opts.clientId) {
    throw new Error(
      `no GitHub token: set ${TOKEN_ENV} to one GitHub issued to the swarm's App (the App refuses personal access tokens and other apps' tokens), ` +
        "or pass --client-id <the App's client id> to log in through the browser",
    );
  }
  const clientId = opts.clientId;
  const api = opts.apiBaseUrl ?? 'https://api.github.com';
  const login = async (): Promise<TokenSource> => {
    const auth = createOAuthDeviceAuth({
      clientType: 'github-app',
      clientId,
      request: new Octokit({ baseUrl: api }).request,
      onVerification(v) {
        opts.log(`To let this runner act for you, open ${v.verification_uri} and enter the code ${v.user_code}`);
      },
    });
    const a = await auth({ type: 'oauth' });
    opts.log('Logged in to GitHub.');
    return { token: a.token, source: 'device login', renew: renewal('refreshToken' in a ? a.refreshToken : undefined) };
  };
  // An App with expiring user tokens (GitHub's default: 8 hours) also gives a refresh token (6
  // months): a runner left alone renews with it instead of asking for the browser again; the device
  // flow's refresh needs no client secret. A refused refresh falls back to the device flow.
  const renewal = (refreshToken: string | undefined) => async (): Promise<TokenSource> => {
    const renewed = refreshToken ? await refresh(webBase(api), clientId, refreshToken) : null;
    if (!renewed) return login();
    opts.log('Renewed the GitHub login.');
    return { token: renewed.token, source: 'device login, renewed', renew: renewal(renewed.refreshToken) };
  };
  return login();
}

/** GitHub's web host for an API base: github.com for api.github.com, the host itself for GitHub Enterprise's /api/v3. */
function webBase(api: string): string {
  return api === 'https://api.github.com' ? 'https://github.com' : api.replace(/\/api\/v3\/?$/, '');
}

/** A new user token (and refresh token) for `refreshToken`, or null when GitHub refuses it. */
async function refresh(web: string, clientId: string, refreshToken: string): Promise<{ token: string; refreshToken?: string } | null> {
  try {
    const res = await fetch(`${web}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    const data = (await res.json()) as { access_token?: unknown; refresh_token?: unknown };
    return res.ok && typeof data.access_token === 'string' ? { token: data.access_token, ...(typeof data.refresh_token === 'string' ? { refreshToken: data.refresh_token } : {}) } : null;
  } catch {
    return null;
  }
}
