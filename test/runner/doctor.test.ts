// `runner doctor` as a volunteer runs it, on machines made of fake executables on PATH.
import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { repoFromCheckout } from '../../runner/cli.js';
import { formatDoctor, runDoctor, type HostBackend } from '../../runner/doctor.js';
import { cli, exitOf, fakeBin, tempDir } from './fakes.js';

const DOCKER_DOWN = `case "$1" in
  version) echo 28.2.2 ;;
  *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
esac`;

const RTX = `case "$1" in
  -L) echo "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-0000)" ;;
  *) echo "NVIDIA GeForce RTX 4090, 24564, 550.54.14" ;;
esac`;

function dockerUp(gpuInContainer: boolean): string {
  return `case "$1" in
  version) echo 27.3.1 ;;
  info) echo 27.3.1 ;;
  image) echo sha256:0123456789abcdef0123456789 ;;
  run) ${gpuInContainer ? 'echo "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-0000)"' : 'echo \'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].\' >&2; exit 125'} ;;
esac`;
}

async function doctor(bin: string) {
  const home = tempDir();
  const child = cli(['doctor', '--repo', 'acme/swarm', '--image', 'ghcr.io/acme/autoresearch-trainer:latest', '--cache-dir', home], { PATH: bin, HOME: home });
  const code = await exitOf(child);
  return { code, out: child.out() };
}

describe('runner doctor', () => {
  it('says clearly that a machine without a GPU and with a stopped Docker engine is not ready, and how to fix it', async () => {
    const { code, out } = await doctor(fakeBin({ docker: DOCKER_DOWN }));
    expect(code).toBe(1);
    expect(out).toContain('✗ NVIDIA GPU and driver: no NVIDIA GPU found: nvidia-smi is not installed');
    expect(out).toMatch(/fix: if this machine has an NVIDIA GPU, install its driver/);
    expect(out).toContain('✗ Docker: the Docker client 28.2.2 is installed but its engine cannot be reached: Cannot connect to the Docker daemon');
    expect(out).toContain('fix: start the engine (`sudo systemctl start docker`)');
    expect(out).toContain('- GPU inside a container: needs a GPU and the Docker engine');
    expect(out).toMatch(/Hardware class this runner will report: cpu-[a-z0-9-]+ \(no GPU/);
    // outside Docker the class comes from the harness's own backend pick on this host
    expect(out).toMatch(/✓ Harness backend: jobs here train on (wasm|cpu) \(CPU\)/);
    // without Docker the sandbox would do, but bubblewrap is not on this PATH either
    expect(out).toContain('✗ Sandbox (bubblewrap): bubblewrap is not installed; install it (Debian/Ubuntu: sudo apt-get install bubblewrap');
    expect(out).toContain('Not ready: 3 problems above');
  });

  it('says how to install Docker when it is missing', async () => {
    const { code, out } = await doctor(fakeBin({}));
    expect(code).toBe(1);
    expect(out).toContain('✗ Docker: Docker is not installed');
    expect(out).toContain('https://docs.docker.com/engine/install/');
  });

  it('passes a ready GPU machine and prints its hardware class', async () => {
    const { code, out } = await doctor(fakeBin({ 'nvidia-smi': RTX, docker: dockerUp(true) }));
    expect(out).toContain('✓ NVIDIA GPU and driver: NVIDIA GeForce RTX 4090 (driver 550.54.14, 24 GiB)');
    expect(out).toContain('✓ GPU inside a container: GPU 0: NVIDIA GeForce RTX 4090');
    expect(out).toContain('✓ Trainer image: ghcr.io/acme/autoresearch-trainer:latest');
    expect(out).toContain('Hardware class this runner will report: gpu-rtx-4090-24gb');
    expect(out).toContain('Ready to join the swarm.');
    expect(code).toBe(0);
  });

  // Outside Docker a job picks its backend on the host (`--backend auto`), and the App rejects a
  // result whose class is not its runner's registered one: doctor registered the nvidia-smi (or
  // CPU) class, so every result of a GPU driven by WebGPU alone was rejected as a class lie.
  const hostDoctor = async (bin: string, host: HostBackend) => {
    const report = await runDoctor({ image: 'ghcr.io/acme/autoresearch-trainer:latest', cacheDir: tempDir(), minFreeGiB: 0, env: { PATH: bin, HOME: tempDir() }, probeHost: async () => host });
    return { report, out: formatDoctor(report) };
  };

  it('registers the class its jobs will report: a GPU that only WebGPU drives gets its webgpu class', async () => {
    const amd = { backend: 'webgpu', device: 'AMD Radeon RX 7900 XTX (RADV NAVI31) (WebGPU)', gpu: true, hardware_class: 'gpu-rx-7900-xtx-webgpu' };
    const { report, out } = await hostDoctor(fakeBin({ docker: DOCKER_DOWN }), amd);
    expect(report.hardwareClass).toBe('gpu-rx-7900-xtx-webgpu');
    expect(out).toContain('✓ Harness backend: jobs here train on webgpu (AMD Radeon RX 7900 XTX (RADV NAVI31) (WebGPU))');
    expect(out).toContain('Hardware class this runner will report: gpu-rx-7900-xtx-webgpu\n');
  });

  it('says when jobs outside Docker would leave an NVIDIA GPU unused, and names the class they report', async () => {
    const { report, out } = await hostDoctor(fakeBin({ 'nvidia-smi': RTX, docker: DOCKER_DOWN }), { backend: 'wasm', device: 'CPU', gpu: false, hardware_class: 'cpu-amd-epyc' });
    expect(report.hardwareClass).toBe('cpu-amd-epyc');
    expect(out).toContain('jobs here train on wasm (CPU) (the GPU is not used: jobs outside Docker need @tensorflow/tfjs-node-gpu or a Vulkan driver for WebGPU)');
  });

  it('is not ready when the harness cannot load a backend here, and says what to do', async () => {
    const { report, out } = await hostDoctor(fakeBin({ docker: DOCKER_DOWN }), { error: "Cannot find package '@tensorflow/tfjs-core'" });
    expect(report.ready).toBe(false);
    expect(out).toContain("✗ Harness backend: the harness could not load a backend here: Cannot find package '@tensorflow/tfjs-core'");
    expect(out).toContain('fix: run `npm ci` in the checkout');
  });

  it('names the NVIDIA Container Toolkit when containers cannot see the GPU', async () => {
    const { code, out } = await doctor(fakeBin({ 'nvidia-smi': RTX, docker: dockerUp(false) }));
    expect(code).toBe(1);
    expect(out).toMatch(/✗ GPU inside a container: a container cannot use the GPU: docker: Error response from daemon: could not select device driver/);
    expect(out).toContain('fix: install the NVIDIA Container Toolkit');
  });
});

describe('doctor without --repo', () => {
  it('says what it needs and how to give it, when it cannot tell the swarm', async () => {
    const bin = fakeBin({}); // no git on PATH: no checkout to read
    const home = tempDir();
    const child = cli(['doctor', '--cache-dir', home], { PATH: bin, HOME: home });
    expect(await exitOf(child)).toBe(2);
    expect(child.out().trim()).toBe(
      "error: doctor checks this machine and the swarm's trainer image, so it needs to know the swarm: pass --repo owner/name (the repository whose jobs you want to run), or --image <ref> for the image alone; from a clone of the swarm it reads the git origin.",
    );
  });

  it('runs with --image alone (the image is all it needs the swarm for)', async () => {
    const home = tempDir();
    const child = cli(['doctor', '--image', 'ghcr.io/acme/autoresearch-trainer:latest', '--cache-dir', home], { PATH: fakeBin({ docker: DOCKER_DOWN }), HOME: home });
    await exitOf(child);
    expect(child.out()).toMatch(/Hardware class this runner will report/);
    expect(child.out()).not.toMatch(/--repo/);
  });

  it("reads the swarm from a clone's GitHub origin", () => {
    const dir = tempDir();
    const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'ignore' });
    git('init', '-q');
    expect(repoFromCheckout(dir)).toBeNull();
    git('remote', 'add', 'origin', 'git@github.com:acme/autoresearch-swarm.git');
    expect(repoFromCheckout(dir)).toBe('acme/autoresearch-swarm');
    git('remote', 'set-url', 'origin', 'https://github.com/acme/swarm');
    expect(repoFromCheckout(dir)).toBe('acme/swarm');
    git('remote', 'set-url', 'origin', 'https://gitlab.com/acme/swarm.git');
    expect(repoFromCheckout(dir)).toBeNull();
  });
});
