// `npm start`: runs the App with Probot's server. Probot reads APP_ID, PRIVATE_KEY (or
// PRIVATE_KEY_PATH), WEBHOOK_SECRET, PORT and LOG_LEVEL from the environment or `.env`.
// Without APP_ID it starts Probot's setup page, which registers the App from `app/app.yml`
// (the manifest) and writes the credentials to `app/.env`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'probot';
import app from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const envFile = join(here, '.env');
if (!process.env.APP_ID && existsSync(envFile)) process.loadEnvFile(envFile);
// Probot's setup mode reads app.yml from, and writes .env to, the working directory.
if (!process.env.APP_ID) process.chdir(here);

run(app).catch((e: unknown) => {
  console.error(`The App could not start: ${(e as Error).message}. Set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET, or run without them to register the App (see docs/app.md).`);
  process.exit(1);
});
