// `npm start`: runs the App with Probot's server. Probot reads APP_ID, PRIVATE_KEY (or
// PRIVATE_KEY_PATH), WEBHOOK_SECRET, PORT and LOG_LEVEL from the environment (or .env).
import { run } from 'probot';
import app from './index.js';

run(app).catch((e: unknown) => {
  console.error(`The App could not start: ${(e as Error).message}. Set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET (see docs/app.md).`);
  process.exit(1);
});
