#!/usr/bin/env node
// The package's command:
//   autoresearch-swarm runner <doctor|join|status> --repo owner/name   the volunteer's CLI
//   autoresearch-swarm experiment [options]                           a local experiment
// Installed (npm pack / npx), it runs the compiled JavaScript in build/ (`npm run build`, which
// `npm pack` runs first), without tsx. In a checkout, where the TypeScript sources sit beside
// this file, it runs those through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `autoresearch-swarm needs Node 24 or later; this is Node ${process.version}. Install Node 24 (https://nodejs.org),` +
      ' or in a checkout run `. scripts/node24.sh` first, which fetches it from the npm registry.',
  );
  process.exit(2);
}

const fromSource = existsSync(new URL('./cli.ts', import.meta.url));
if (fromSource) (await import('tsx/esm/api')).register();
/** A module of the project by its path without extension: the .ts source or the compiled .js. */
const entry = (path) => new URL(fromSource ? `../${path}.ts` : `../build/${path}.js`, import.meta.url);

const USAGE = `Usage: autoresearch-swarm <command> [options]

Commands
  runner doctor|join|status --repo owner/name   lend this machine's GPU to a swarm (runner --help)
  experiment [options]                          train and score a train.ts here (experiment --help)
`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'experiment') {
  // trainer/cli runs itself when it is the script node was started with: make it so
  const cli = entry('trainer/cli');
  process.argv = [process.argv[0], fileURLToPath(cli), ...rest];
  await import(cli.href);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  (command === undefined ? console.error : console.log)(USAGE);
  process.exitCode = command === undefined ? 2 : 0;
} else {
  const { main } = await import(entry('runner/cli').href);
  process.exit(await main(process.argv.slice(2)));
}
