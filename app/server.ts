// `npm start` (and the container's command, compiled): runs the App with Probot's server.
// Probot reads APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH), WEBHOOK_SECRET, PORT and LOG_LEVEL from
// the environment or `.env`; the App refuses to start without the secret and the key
// (app/startup.ts). Without APP_ID (outside production) it starts Probot's setup page, which
// registers the App from `app/app.yml` with the webhook URL the operator gives (WEBHOOK_URL) and
// writes the credentials to `app/.setup/.env`. GET /ping answers PONG (the health check).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'probot';
import { appOctokit } from './github/throttle.js';
import app from './index.js';
import { setupManifest, startMode } from './startup.js';

const here = dirname(fileURLToPath(import.meta.url));
const setupDir = process.env.SETUP_DIR ?? join(here, '.setup');
for (const envFile of [join(here, '.env'), join(setupDir, '.env')]) {
  if (!process.env.APP_ID && existsSync(envFile)) process.loadEnvFile(envFile);
}
const mode = startMode(process.env);
if ('problem' in mode) {
  console.error(mode.problem);
  process.exit(1);
}
if (mode.mode === 'setup') {
  // Probot's setup reads app.yml from, and writes .env to, the working directory.
  mkdirSync(setupDir, { recursive: true });
  // the operator's URL, not a smee.io channel Probot would otherwise create
  if (process.env.WEBHOOK_URL) process.env.NO_SMEE_SETUP = 'true';
  writeFileSync(join(setupDir, 'app.yml'), setupManifest(readFileSync(join(here, 'app.yml'), 'utf8'), mode.webhookUrl));
  process.chdir(setupDir);
}

run(app, { Octokit: appOctokit() }).catch((e: unknown) => {
  console.error(`The App could not start: ${(e as Error).message}. Set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET, or run without them to register the App (see docs/app.md).`);
  process.exit(1);
});
