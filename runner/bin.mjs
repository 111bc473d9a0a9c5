#!/usr/bin/env node
// `npx autoresearch-swarm runner join --repo owner/name`: run the TypeScript CLI through tsx's
// ESM loader, so the published package needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exit(await main(process.argv.slice(2)));
