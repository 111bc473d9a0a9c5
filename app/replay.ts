// Replays a webhook payload into the App locally, as `probot receive` does:
//   npx tsx app/replay.ts <event name> <payload.json>
// e.g. npx tsx app/replay.ts workflow_run ./payloads/run-completed.json
// The App then calls GitHub as the installation named in the payload, with the credentials
// in APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), from the environment or app/.env.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Probot } from 'probot';
import { appOctokit } from './github/throttle.js';
import app from './index.js';

const [name, file] = process.argv.slice(2);
if (!name || !file) {
  console.error('Usage: npx tsx app/replay.ts <event name, e.g. pull_request> <payload.json>');
  process.exit(2);
}
const envFile = join(dirname(fileURLToPath(import.meta.url)), '.env');
if (!process.env.APP_ID && existsSync(envFile)) process.loadEnvFile(envFile);
const privateKey = process.env.PRIVATE_KEY ?? (process.env.PRIVATE_KEY_PATH ? readFileSync(process.env.PRIVATE_KEY_PATH, 'utf8') : undefined);
if (!process.env.APP_ID || !privateKey) {
  console.error('Set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), or register the App first with `npm start` (docs/app.md).');
  process.exit(2);
}
let payload: { installation?: { id: number } };
try {
  payload = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`${file} is not a readable JSON payload (${(e as Error).message}); save the payload from the App's "Advanced" delivery page.`);
  process.exit(2);
}
if (!payload.installation?.id) {
  console.error(`${file} has no installation.id; only payloads delivered to an installed App can be replayed.`);
  process.exit(2);
}
const probot = new Probot({ appId: Number(process.env.APP_ID), privateKey, Octokit: appOctokit() });
await probot.load(app);
await probot.receive({ id: `replay-${Date.now()}`, name, payload } as Parameters<Probot['receive']>[0]);
console.log(`Delivered ${name} from ${file}.`);
