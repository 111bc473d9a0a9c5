#!/usr/bin/env node
// Run before each npm script that needs the dependencies (see package.json): without `npm ci`
// the script would die with the shell's "sh: 1: tsx: not found". Plain Node, no imports that
// need node_modules.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const needed = process.argv.slice(2);
const missing = needed.filter((bin) => !existsSync(join(root, 'node_modules', '.bin', bin)));
if (missing.length) {
  const script = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : 'this command';
  console.error(`${script} needs the project's dependencies, which are not installed (no ${missing.join(', ')} in ${join(root, 'node_modules', '.bin')}): run \`npm ci\` in ${root} first, then run it again.`);
  process.exit(2);
}
