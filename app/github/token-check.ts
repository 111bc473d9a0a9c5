// Whether a user's token was issued to this App: GitHub's "Check a token"
// (POST /applications/{client_id}/token), authenticated as the App's OAuth client (HTTP Basic,
// client id and client secret). `GET /user` answers for any user token, so without this check a
// token its user granted another app or tool (or one that leaked from it) would let its holder
// act as that user here. Neither the token nor the secret is ever logged or put in a message.
import { Octokit } from '@octokit/rest';

/** The App's OAuth client: the client id and a client secret from the App's settings page. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

/** From GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET (the names Probot's setup writes to .env); null unless both are set. */
export function oauthClientFromEnv(env: NodeJS.ProcessEnv = process.env): OAuthClient | null {
  const clientId = env.GITHUB_CLIENT_ID?.trim();
  const clientSecret = env.GITHUB_CLIENT_SECRET?.trim();
  return clientId && clientSecret ? { clientId, clientSecret } : null;
}

export const MISSING_CLIENT =
  'this App has no GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET set, so it cannot check that your token was issued to it and registers no runners; ' +
  "its operator must set both (the App's settings page: Client ID, and \"Generate a new client secret\") and restart it";

export type TokenCheck = { ok: true; login: string; id: number } | { ok: false; status: number; error: string; retryAfterSeconds?: number };

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Who owns `token`, if GitHub issued it to `client`; otherwise the answer the route should give. */
export async function checkAppToken(token: string, client: OAuthClient | null, baseUrl: string): Promise<TokenCheck> {
  if (!client?.clientId || !client.clientSecret) return { ok: false, status: 503, error: MISSING_CLIENT };
  const github = new Octokit({ baseUrl, log: quiet, request: { retries: 0 } });
  const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
  let status: number | null;
  try {
    const { data } = await github.request('POST /applications/{client_id}/token', { client_id: client.clientId, access_token: token, headers: { authorization: `basic ${basic}` } });
    if (data.user) return { ok: true, login: data.user.login, id: Number(data.user.id) };
    status = 404;
  } catch (e) {
    // the error holds the request, and its body the token: only its status leaves this function
    const s = (e as { status?: unknown })?.status;
    status = typeof s === 'number' ? s : null;
  }
  if (status === 404 || status === 422) {
    // 404: another app's or tool's token, a personal access token, an expired or revoked one (or, for every token, a wrong client secret)
    return {
      ok: false,
      status: 401,
      error:
        `this token was not issued to this swarm's GitHub App (client id ${client.clientId}): it is another app's or tool's token, a personal access token, or it expired or was revoked; ` +
        'log in with `runner join` through the browser (device flow): unset $AUTORESEARCH_GITHUB_TOKEN',
    };
  }
  return { ok: false, status: 502, error: `GitHub could not check your token (HTTP ${status ?? 'error'}); try again in a minute`, retryAfterSeconds: 60 };
}
