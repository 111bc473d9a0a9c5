import { join } from 'node:path';
// How this harness is running: from its TypeScript sources (a checkout: `npm run experiment`,
// the Action; children through tsx) or compiled to JavaScript (the installed package's build/,
// `npm run build`; no tsx). Decided by this module's own file, so children match their parent.

export const COMPILED = !import.meta.url.endsWith('.ts');

/** The default training file, relative to the checkout (or the package's build/). */
export const DEFAULT_CANDIDATE = COMPILED ? 'trainer/train.js' : 'trainer/train.ts';

/** What `node` runs for one child: its node options and its worker, relative to the checkout
 * (or build/). Compiled children import a TypeScript candidate with Node's own type stripping
 * (erasable syntax only); from the sources, tsx loads both. */
export function childEntry(phase: 'train' | 'eval', isolation: 'none' | 'docker' | 'sandbox', compiled = COMPILED): { nodeArgs: string[]; worker: string } {
  if (!compiled) return { nodeArgs: ['--import', 'tsx'], worker: `trainer/${phase}-worker.ts` };
  if (isolation === 'docker') {
    throw new Error('--isolation docker runs the trusted sources of a checkout in the trainer image; the installed package has only compiled code. Run it from a checkout: npm run experiment -- --isolation docker --image <ref>.');
  }
  return { nodeArgs: [], worker: `trainer/${phase}-worker.js` };
}

/** `node`'s argv for one of the harness's scripts (`trainer/<name>.ts`, or `.js` when compiled),
 * run with `repoDir` (the checkout, or build/) as its working directory. */
export function scriptArgv(name: string, repoDir: string, compiled = COMPILED): string[] {
  return compiled ? [process.execPath, join(repoDir, `trainer/${name}.js`)] : [process.execPath, '--import', 'tsx', join(repoDir, `trainer/${name}.ts`)];
}
