// Production safety: the App refuses to start without a webhook secret and a private key (Probot
// alone would accept payloads signed with "development"), and registering it from the manifest
// sends the webhook URL the operator gives (not the manifest's placeholder).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
// Probot's own manifest code, as its setup page runs it (not exported by the package)
import { ManifestCreation } from '../../node_modules/probot/lib/manifest-creation.js';
import { setupManifest, startMode } from '../../app/startup.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const APP_YML = readFileSync('app/app.yml', 'utf8');

/** The manifest Probot's setup page would post to GitHub for a manifest file with this text. */
function probotManifest(appYml: string): Record<string, any> {
  const m = new ManifestCreation().getManifest({ pkg: { name: 'x', description: 'x' } as any, baseUrl: 'http://localhost:3000', readFileSync: (() => appYml) as any });
  return JSON.parse(m);
}

describe('start-up checks', () => {
  it('refuses to start without WEBHOOK_SECRET, naming it (Probot alone accepts "development")', () => {
    const r = startMode({ APP_ID: '1', PRIVATE_KEY: 'k' });
    expect(r).toEqual({ problem: expect.stringMatching(/^The App will not start without WEBHOOK_SECRET: /) });
    expect(startMode({ APP_ID: '1', PRIVATE_KEY: 'k', WEBHOOK_SECRET: 'development' })).toEqual({ problem: expect.stringMatching(/WEBHOOK_SECRET is "development"/) });
  });

  it('refuses to start without a private key, and in production without any credentials', () => {
    expect(startMode({ APP_ID: '1', WEBHOOK_SECRET: 's' })).toEqual({ problem: expect.stringMatching(/without PRIVATE_KEY \(or PRIVATE_KEY_PATH\)/) });
    expect(startMode({ NODE_ENV: 'production' })).toEqual({ problem: expect.stringMatching(/without APP_ID, PRIVATE_KEY \(or PRIVATE_KEY_PATH\), WEBHOOK_SECRET/) });
    expect(startMode({ APP_ID: '1', PRIVATE_KEY_PATH: '/k.pem', WEBHOOK_SECRET: 's' })).toEqual({ mode: 'app' });
  });

  it('registering needs the webhook URL the operator gives', () => {
    expect(startMode({})).toEqual({ problem: expect.stringMatching(/^To register the App, set WEBHOOK_URL/) });
    expect(startMode({ WEBHOOK_URL: 'app.example.org' })).toEqual({ problem: expect.stringMatching(/not an http\(s\) URL/) });
    expect(startMode({ WEBHOOK_URL: 'https://app.example.org/api/github/webhooks' })).toEqual({ mode: 'setup', webhookUrl: 'https://app.example.org/api/github/webhooks' });
  });

  it('the manifest Probot posts carries the operator\'s webhook URL, not a placeholder', () => {
    // app/app.yml itself names no webhook URL: Probot spreads the file over what it generates
    expect(probotManifest(APP_YML).hook_attributes?.url).not.toMatch(/example\.com/);
    const url = 'https://app.example.org/api/github/webhooks';
    const m = probotManifest(setupManifest(APP_YML, url));
    expect(m.hook_attributes).toEqual({ url, active: true });
    expect(m.redirect_url).toBe('http://localhost:3000/probot/setup');
    expect(m.default_permissions).toEqual(parseYaml(APP_YML).default_permissions);
  });

  it('`npm start` with a key but no webhook secret exits at once with the one message', () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, APP_ID: '1', PRIVATE_KEY: privateKey, PORT: '0', LOG_LEVEL: 'fatal' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'app/server.ts'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBeNull(); // not killed by the timeout: it did not start serving
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^The App will not start without WEBHOOK_SECRET: /);
  });
});
