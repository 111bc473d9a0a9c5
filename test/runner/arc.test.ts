// The fleet files parse, and say the same things as the volunteer path: same labels, same
// pinned runner, same isolation promises.
import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { HardwareClassName, runnerLabels } from '../../runner/protocol.js';
import { RUNNER_RELEASE } from '../../runner/release.js';

const values = parse(readFileSync('runner/arc/values.yaml', 'utf8'));
const docs = parseAllDocuments(readFileSync('runner/arc/manifest.yaml', 'utf8')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS();
});
const dockerfile = readFileSync('runner/arc/Dockerfile', 'utf8');

describe('runner/arc/values.yaml (gha-runner-scale-set)', () => {
  it('names the scale set after a hardware class and gives it the volunteer labels', () => {
    expect(HardwareClassName.safeParse(values.runnerScaleSetName).success).toBe(true);
    expect(values.scaleSetLabels).toEqual(runnerLabels(values.runnerScaleSetName, 'your-github-login'));
    expect(values.githubConfigUrl).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+$/);
    expect(typeof values.githubConfigSecret).toBe('string');
    expect(values.minRunners).toBeLessThanOrEqual(values.maxRunners);
  });

  it('runs one GPU job per unprivileged pod of the runner image, with no cluster credentials', () => {
    const spec = values.template.spec;
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    const [runner] = spec.containers;
    expect(runner.name).toBe('runner');
    expect(runner.image).toMatch(/autoresearch-arc-runner/);
    expect(runner.command).toEqual(['/home/runner/run.sh']);
    expect(runner.resources.limits['nvidia.com/gpu']).toBe(1);
    expect(runner.resources.limits.memory).toBeDefined();
    expect(runner.securityContext).toMatchObject({ allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(spec.volumes.every((v: { emptyDir?: unknown }) => v.emptyDir)).toBe(true); // nothing outlives the pod
  });
});

describe('runner/arc/manifest.yaml', () => {
  it('declares the namespace, an egress policy for the runner pods and a GPU quota', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'NetworkPolicy', 'ResourceQuota']);
    const policy = docs[1];
    expect(policy.spec.podSelector.matchLabels).toEqual(values.template.metadata.labels);
    const blocked = policy.spec.egress.flatMap((r: { to: { ipBlock?: { except?: string[] } }[] }) => r.to.flatMap((t) => t.ipBlock?.except ?? []));
    expect(blocked).toEqual(expect.arrayContaining(['169.254.0.0/16', '10.0.0.0/8']));
    expect(docs.every((d) => d.kind === 'Namespace' || d.metadata.namespace === docs[0].metadata.name)).toBe(true);
  });
});

describe('runner/arc/Dockerfile', () => {
  it('pins the same actions/runner release and checksum as the CLI', () => {
    expect(dockerfile).toContain(`ARG RUNNER_VERSION=${RUNNER_RELEASE.version}\n`);
    expect(dockerfile).toContain(`ARG RUNNER_SHA256=${RUNNER_RELEASE.sha256['linux-x64']}\n`);
    expect(dockerfile).toMatch(/sha256sum -c -/);
  });
});

describe('the job-started hook on fleet runners', () => {
  const template = readFileSync('runner/hooks/job-started.sh', 'utf8');
  it('the image installs the same hook as `runner join`, read-only, and the pods point the runner at it', () => {
    expect(dockerfile).toContain('COPY runner/hooks/job-started.sh /opt/autoresearch/job-started.sh');
    expect(dockerfile).toContain('ENV ACTIONS_RUNNER_HOOK_JOB_STARTED=/opt/autoresearch/job-started.sh');
    expect(dockerfile).toMatch(/chmod 0555 \/opt\/autoresearch\/job-started.sh/);
    for (const placeholder of template.match(/@[A-Z_]+@/g) ?? []) expect(dockerfile).toContain(`s|${placeholder}|`);
    const env = values.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env).toEqual(expect.arrayContaining([{ name: 'ACTIONS_RUNNER_HOOK_JOB_STARTED', value: '/opt/autoresearch/job-started.sh' }]));
  });

  it('declares the pod uncontained, so its results count only from a trusted fleet', () => {
    const env = values.template.spec.containers[0].env as { name: string; value: string }[];
    expect(env).toEqual(expect.arrayContaining([{ name: 'AUTORESEARCH_ISOLATION', value: 'none' }]));
  });
});

