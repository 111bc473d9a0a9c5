// Who the volunteer is: a token they pass, or GitHub's device flow (against a loopback GitHub).
import { describe, it, expect, afterAll } from '@jest/globals';
import { resolveToken } from '../../runner/auth.js';
import { serve, type Loopback } from './fakes.js';

const seen: string[] = [];
let github: Loopback;
const ready = serve((req, res, body) => {
  seen.push(`${req.method} ${req.url} ${body}`);
  const json = (o: object) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(o));
  if (req.url === '/login/device/code') return json({ device_code: 'dc-1', user_code: 'WDJB-MJHT', verification_uri: 'https://github.com/login/device', expires_in: 900, interval: 5 });
  if (req.url === '/login/oauth/access_token') {
    const b = JSON.parse(body || '{}') as Record<string, string>;
    // an App with expiring user tokens: a refresh token with each; a refresh needs no client secret for the device flow's
    if (b.grant_type === 'refresh_token') return b.refresh_token === 'ghr_1' ? json({ access_token: 'ghu_refreshed', expires_in: 28800, refresh_token: 'ghr_2', refresh_token_expires_in: 15897600, token_type: 'bearer', scope: '' }) : json({ error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' });
    if (b.client_id === 'Iv1.expiring') return json({ access_token: 'ghu_expiring', expires_in: 28800, refresh_token: 'ghr_1', refresh_token_expires_in: 15897600, token_type: 'bearer', scope: '' });
    return json({ access_token: 'ghu_from_device_flow', token_type: 'bearer', scope: '' });
  }
  res.writeHead(404).end();
}).then((s) => (github = s));
afterAll(() => github.close());

describe('resolveToken', () => {
  it('takes the token from the environment, and never needs a login then', async () => {
    const log: string[] = [];
    expect(await resolveToken({ env: { GITHUB_TOKEN: 'g', AUTORESEARCH_GITHUB_TOKEN: 'a' }, log: (l) => log.push(l) })).toMatchObject({ token: 'a', source: '$AUTORESEARCH_GITHUB_TOKEN' });
    // gh's or a workflow's token is never this App's: it must not stand in for the device-flow login
    await expect(resolveToken({ env: { GH_TOKEN: 'gho_gh_cli', GITHUB_TOKEN: 'ghs_workflow' }, log: (l) => log.push(l) })).rejects.toThrow(/no GitHub token/);
    expect(log).toEqual([]);
  });

  it('says what to pass when there is neither a token nor a client id', async () => {
    await expect(resolveToken({ env: {}, log: () => {} })).rejects.toThrow(/no GitHub token: set AUTORESEARCH_GITHUB_TOKEN to one GitHub issued to the swarm's App.*or pass --client-id/);
  });

  it('logs in through the device flow, showing the code to type, and can log in again', async () => {
    await ready;
    const log: string[] = [];
    const auth = await resolveToken({ env: {}, clientId: 'Iv1.swarm', apiBaseUrl: `${github.url}/api/v3`, log: (l) => log.push(l) });
    expect(auth).toMatchObject({ token: 'ghu_from_device_flow', source: 'device login' });
    expect(log[0]).toBe('To let this runner act for you, open https://github.com/login/device and enter the code WDJB-MJHT');
    expect(seen[0]).toMatch(/^POST \/login\/device\/code .*Iv1\.swarm/);
    expect(seen[1]).toMatch(/^POST \/login\/oauth\/access_token .*dc-1/);
    expect((await auth.renew!()).token).toBe('ghu_from_device_flow');
    expect(seen).toHaveLength(4);
  });

  it('renews an expiring login with its refresh token, without the browser, and logs in again when that is refused', async () => {
    await ready;
    const log: string[] = [];
    const auth = await resolveToken({ env: {}, clientId: 'Iv1.expiring', apiBaseUrl: `${github.url}/api/v3`, log: (l) => log.push(l) });
    expect(auth.token).toBe('ghu_expiring');
    const from = seen.length;
    const renewed = await auth.renew!();
    expect(renewed).toMatchObject({ token: 'ghu_refreshed', source: 'device login, renewed' });
    expect(seen.slice(from)).toEqual([expect.stringMatching(/^POST \/login\/oauth\/access_token .*"grant_type":"refresh_token".*"refresh_token":"ghr_1"/)]);
    expect(seen.at(-1)).not.toMatch(/client_secret/);
    // ghr_2 is refused by this GitHub: back to the device flow
    expect((await renewed.renew!()).token).toBe('ghu_expiring');
    expect(seen.slice(from + 2).some((l) => l.startsWith('POST /login/device/code'))).toBe(true);
    expect(log).toContain('Renewed the GitHub login.');
  });
});
