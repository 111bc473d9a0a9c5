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
  if (req.url === '/login/oauth/access_token') return json({ access_token: 'ghu_from_device_flow', token_type: 'bearer', scope: '' });
  res.writeHead(404).end();
}).then((s) => (github = s));
afterAll(() => github.close());

describe('resolveToken', () => {
  it('prefers --token, then the environment, and never needs a login then', async () => {
    const log: string[] = [];
    expect(await resolveToken({ token: 't-flag', env: { GH_TOKEN: 't-env' }, log: (l) => log.push(l) })).toMatchObject({ token: 't-flag', source: '--token', renew: null });
    expect(await resolveToken({ env: { GITHUB_TOKEN: 'g', AUTORESEARCH_GITHUB_TOKEN: 'a' }, log: (l) => log.push(l) })).toMatchObject({ token: 'a', source: '$AUTORESEARCH_GITHUB_TOKEN' });
    // gh's or a workflow's token is never this App's: it must not stand in for the device-flow login
    await expect(resolveToken({ env: { GH_TOKEN: 'gho_gh_cli', GITHUB_TOKEN: 'ghs_workflow' }, log: (l) => log.push(l) })).rejects.toThrow(/no GitHub token/);
    expect(log).toEqual([]);
  });

  it('says what to pass when there is neither a token nor a client id', async () => {
    await expect(resolveToken({ env: {}, log: () => {} })).rejects.toThrow(/no GitHub token: pass --token <token>.*or pass --client-id/);
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
});
