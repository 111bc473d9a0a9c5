// Every third-party action the workflows use runs on Node 24 (GitHub is retiring the Node 20
// Actions runtime), pinned by the full commit sha of a release named in a comment beside it.
// A sha cannot be checked offline, so each pin is listed below with what was read from the
// action's own repository at that tag: the tag's commit and the `runs.using` of its action.yml
// (for a composite action, the runtime of what it calls). To bump a pin: fetch the action's
// repository, `git rev-parse <tag>^{commit}`, read `runs.using` at that tag and its release
// notes, and add the row here.
import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');

const VERIFIED: { action: string; sha: string; release: string; runs: string }[] = [
  { action: 'actions/checkout', sha: '3d3c42e5aac5ba805825da76410c181273ba90b1', release: 'v7.0.1', runs: 'node24' },
  { action: 'actions/setup-node', sha: '820762786026740c76f36085b0efc47a31fe5020', release: 'v7.0.0', runs: 'node24' },
  { action: 'actions/upload-artifact', sha: 'bbbca2ddaa5d8feaa63e36b76fdaad77386f024f', release: 'v7.0.0', runs: 'node24' },
  // composite: tar, then actions/upload-artifact@bbbca2dd (v7.0.0, node24)
  { action: 'actions/upload-pages-artifact', sha: 'fc324d3547104276b827a68afc52ff2a11cc49c9', release: 'v5.0.0', runs: 'composite: node24' },
  { action: 'actions/deploy-pages', sha: 'cd2ce8fcbc39b97be8ca5fce6e763baed58fa128', release: 'v5.0.0', runs: 'node24' },
  // composite: actions/attest@59d89421 (v4.1.0, node24)
  { action: 'actions/attest-build-provenance', sha: 'a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32', release: 'v4.1.0', runs: 'composite: node24' },
];

/** Every `uses:` line of every workflow: the action, the ref and the comment beside it. */
function usesLines(): { file: string; action: string; ref: string; comment: string }[] {
  const out = [];
  for (const file of readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const line of readFileSync(join(WORKFLOWS, file), 'utf8').split('\n')) {
      const m = /^\s*(?:-\s*)?uses:\s*([^\s@#]+)(?:@(\S+))?\s*(?:#\s*(.*))?$/.exec(line);
      if (m) out.push({ file, action: m[1], ref: m[2] ?? '', comment: (m[3] ?? '').trim() });
    }
  }
  return out;
}

describe('third-party actions in .github/workflows', () => {
  const uses = usesLines().filter((u) => !u.action.startsWith('./') && !u.action.startsWith('docker://'));

  it('are found (the scan reads the same steps the workflow parser does)', () => {
    expect(uses.length).toBeGreaterThanOrEqual(10);
  });

  it.each(uses.map((u) => [`${u.file}: ${u.action}@${u.ref.slice(0, 12)}`, u] as const))('%s is a verified Node 24 release, named beside its sha', (_, u) => {
    const pin = VERIFIED.find((v) => v.action === u.action && v.sha === u.ref);
    expect({ uses: `${u.action}@${u.ref}`, verified: pin !== undefined }).toEqual({ uses: `${u.action}@${u.ref}`, verified: true });
    expect(u.comment).toBe(pin!.release);
    expect(pin!.runs).toMatch(/node24$/);
  });

  it('each verified pin is a full commit sha of a release tag', () => {
    for (const v of VERIFIED) {
      expect(v.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(v.release).toMatch(/^v\d+\.\d+\.\d+$/);
    }
  });
});

describe('the Node version', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  it('is 24 in every setup-node step', () => {
    const versions: string[] = [];
    for (const file of readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f))) {
      const raw = parseYaml(readFileSync(join(WORKFLOWS, file), 'utf8'));
      for (const job of Object.values<any>(raw.jobs ?? {})) {
        for (const step of job.steps ?? []) {
          if (String(step.uses ?? '').startsWith('actions/setup-node@')) versions.push(`${file}: ${step.with?.['node-version']}`);
        }
      }
    }
    expect(versions.length).toBeGreaterThanOrEqual(4);
    for (const v of versions) expect(v).toMatch(/: 24$/);
  });

  it('is 24 for the Action, its bundle, the package, its types, the trainer image and scripts/node24.sh', () => {
    const action = parseYaml(readFileSync(join(ROOT, 'action', 'action.yml'), 'utf8'));
    expect(action.runs.using).toBe('node24');
    expect(pkg.scripts['build:action']).toContain('--target=node24');
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./);
    expect(readFileSync(join(ROOT, 'trainer', 'Dockerfile'), 'utf8')).toMatch(/^FROM node:24-bookworm-slim AS node$/m);
    expect(readFileSync(join(ROOT, 'scripts', 'node24.sh'), 'utf8')).toMatch(/^AUTORESEARCH_NODE_VERSION=24\.\d+\.\d+$/m);
  });

  it('is what this test runs on (scripts/node24.sh puts it first on PATH)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});
