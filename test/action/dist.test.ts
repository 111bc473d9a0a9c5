// The committed bundle is what runners execute: it must be exactly what the sources build to,
// and must not carry tfjs (the harness runs as its own process, with its own backend).
import { describe, it, expect } from '@jest/globals';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const DIST = 'action/dist/index.js';

describe('action/dist', () => {
  it('is the current build of action/src (run `npm run build:action` and commit it)', () => {
    const script: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['build:action'];
    expect(script).toContain(`--outfile=${DIST}`);
    const dir = mkdtempSync(join(tmpdir(), 'action-dist-'));
    try {
      const out = join(dir, 'index.js');
      execSync(`npx ${script.replace(`--outfile=${DIST}`, `--outfile=${out}`)} --log-level=error`, { cwd: ROOT, stdio: 'pipe' });
      const fresh = readFileSync(out, 'utf8');
      const committed = readFileSync(join(ROOT, DIST), 'utf8');
      // a plain equality check, but with a message that says what to do
      if (fresh !== committed) throw new Error(`${DIST} is stale: run \`npm run build:action\` and commit ${DIST}.`);
      expect(committed).not.toMatch(/@tensorflow\/tfjs|tfjs-core|tfjs-backend/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
