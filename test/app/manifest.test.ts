import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { AutoresearchConfig, loadConfig } from '../../app/config.js';

describe('App manifest and example config', () => {
  const manifest = parse(readFileSync('app/app.yml', 'utf8'));
  it('subscribes to the events the App handles, and no others', () => {
    const handled = new Set([...readFileSync('app/index.ts', 'utf8').matchAll(/'([a-z_]+)\.[a-z_]+'/g)].map((m) => m[1]));
    handled.delete('installation'); // installation and installation_repositories are always delivered to an App
    handled.delete('installation_repositories');
    expect([...manifest.default_events].sort()).toEqual([...handled].sort());
  });
  it('asks for the least permissions, never workflows', () => {
    expect(manifest.default_permissions).toEqual({ metadata: 'read', contents: 'write', pull_requests: 'write', checks: 'write', actions: 'write', administration: 'write', issues: 'write' });
    expect(manifest.public).toBe(false);
  });
  it('the example .github/autoresearch.yml is valid and documents exactly the defaults', () => {
    const raw = parse(readFileSync('.github/autoresearch.yml', 'utf8'));
    const loaded = loadConfig(raw);
    expect(loaded.notice).toBeNull();
    expect(loaded.config).toEqual(AutoresearchConfig.parse({}));
    expect(Object.keys(raw).sort()).toEqual(Object.keys(AutoresearchConfig.shape).sort());
  });
});
