// The swarm's public runner settings, read by the CLI from the repository's config file.
import { describe, it, expect, afterAll } from '@jest/globals';
import { fetchSwarmSettings } from '../../runner/app-client.js';
import { serve, type Loopback } from './fakes.js';

const files: Record<string, string> = {
  '/acme/swarm/HEAD/.github/autoresearch.yml':
    'budget_seconds: 300\nrunners:\n  app_url: https://app.example.org\n  client_id: Iv23liABC\n  image: ghcr.io/acme/autoresearch-trainer:v3\n  a_newer_key: true\n',
  '/acme/bad/HEAD/.github/autoresearch.yml': 'runners:\n  max_per_owner: -1\n',
};
let raw: Loopback;
const ready = serve((req, res) => (files[req.url!] ? res.writeHead(200).end(files[req.url!]) : res.writeHead(404).end('404: Not Found'))).then((s) => (raw = s));
afterAll(() => raw.close());

describe('fetchSwarmSettings', () => {
  it('reads app_url, client_id and image from the runners section', async () => {
    await ready;
    expect(await fetchSwarmSettings('acme/swarm', raw.url)).toMatchObject({ app_url: 'https://app.example.org', client_id: 'Iv23liABC', image: 'ghcr.io/acme/autoresearch-trainer:v3', max_per_owner: 4 });
  });
  it('is null when the file cannot be read, so flags fill in', async () => {
    await ready;
    expect(await fetchSwarmSettings('acme/private', raw.url)).toBeNull();
  });
  it('names the bad field of an invalid section', async () => {
    await ready;
    await expect(fetchSwarmSettings('acme/bad', raw.url)).rejects.toThrow(/acme\/bad's \.github\/autoresearch\.yml has an invalid runners\.max_per_owner/);
  });
});
