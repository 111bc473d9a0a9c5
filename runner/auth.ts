// Who the volunteer is, to GitHub: a token they pass, or a device-flow login in the browser.
// The token only ever goes to the App, which accepts it only if GitHub issued it to the App (the
// device flow here) and uses it for `GET /user`; the runner process and the jobs never see it.
import { createOAuthDeviceAuth } from '@octokit/auth-oauth-device';
import { Octokit } from '@octokit/rest';

export interface TokenSource {
  token: string;
  /** where it came from, for messages (never the token itself) */
  source: string;
  /** log in again when the App says the token expired; null when the user passed it */
  renew: (() => Promise<TokenSource>) | null;
}

// only the swarm's own variable: $GH_TOKEN and $GITHUB_TOKEN hold gh's or a workflow's token, which
// the App refuses (not issued to it), and would stand in the way of the device-flow login
const ENV_NAMES = ['AUTORESEARCH_GITHUB_TOKEN'];

export async function resolveToken(opts: {
  token?: string;
  clientId?: string;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** GitHub's API base; GitHub Enterprise or a test server */
  apiBaseUrl?: string;
}): Promise<TokenSource> {
  if (opts.token) return { token: opts.token, source: '--token', renew: null };
  const env = opts.env ?? process.env;
  for (const name of ENV_NAMES) {
    if (env[name]) return { token: env[name]!, source: `$${name}`, renew: null };
  }
  if (!opts.clientId) {
    throw new Error(
      `no GitHub token: pass --token <token> (one GitHub issued to the swarm's App: the App refuses personal access tokens and other apps' tokens), set ${ENV_NAMES[0]}, ` +
        "or pass --client-id <the App's client id> to log in through the browser",
    );
  }
  const clientId = opts.clientId;
  const login = async (): Promise<TokenSource> => {
    const auth = createOAuthDeviceAuth({
      clientType: 'github-app',
      clientId,
      request: new Octokit({ baseUrl: opts.apiBaseUrl ?? 'https://api.github.com' }).request,
      onVerification(v) {
        opts.log(`To let this runner act for you, open ${v.verification_uri} and enter the code ${v.user_code}`);
      },
    });
    const { token } = await auth({ type: 'oauth' });
    opts.log('Logged in to GitHub.');
    return { token, source: 'device login', renew: login };
  };
  return login();
}
