// The App as `npm start` loads it: the webhook handlers and the volunteers' JIT-config route
// come up together, and the route refuses a caller without a GitHub token.
import { describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createApp } from '../../app/index.js';
import { JIT_CONFIG_PATH } from '../../runner/protocol.js';
import { testProbot } from '../runner/app-fixture.js';
import { listen } from '../runner/fakes.js';

describe('the App wiring', () => {
  it('registers the runner route beside the webhooks; an unauthenticated caller gets 401 and no config', async () => {
    const handlers: ((req: IncomingMessage, res: ServerResponse) => unknown)[] = [];
    await testProbot(7).load(createApp(), { cwd: process.cwd(), addHandler: (h) => handlers.push(h) });
    expect(handlers).toHaveLength(1);
    const server = await listen(
      createServer(async (req, res) => {
        for (const h of handlers) if (await h(req, res)) return;
        res.writeHead(404).end();
      }),
    );
    try {
      const res = await fetch(server.url + JIT_CONFIG_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error?: string; jitconfig?: string };
      expect(body.jitconfig).toBeUndefined();
      expect(body.error).toMatch(/token/i);
    } finally {
      await server.close();
    }
  });

  it('loads without an HTTP server (tests, replay): webhooks only', async () => {
    await expect(testProbot(8).load(createApp())).resolves.toBeUndefined();
  });
});
