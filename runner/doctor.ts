// `runner doctor`: is this machine ready to run the swarm's jobs, and if not, what exactly to do.
import { execFileSync, execFile } from 'node:child_process';
import { statfs, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectHardware, hardwareClass, type HardwareInfo } from '../trainer/hardware.js';
import { scriptArgv } from '../trainer/runtime.js';
import { sandboxProblem } from '../trainer/sandbox.js';

export type CheckState = 'ok' | 'missing' | 'skipped';

export interface Check {
  name: string;
  state: CheckState;
  detail: string;
  /** what to do about it, when missing */
  fix?: string;
}

export interface DoctorReport {
  checks: Check[];
  hardware: HardwareInfo;
  hardwareClass: string;
  /** jobs can run in a container (Docker engine usable) */
  containers: boolean;
  /** jobs can run in the bubblewrap sandbox (trainer/sandbox.ts) */
  sandbox: boolean;
  ready: boolean;
}

export interface DoctorOptions {
  image: string;
  cacheDir: string;
  minFreeGiB?: number;
  env?: NodeJS.ProcessEnv;
  /** the backend and class a job's `--backend auto` takes on this host (default: the harness's
   * trainer/probe-class in a child process) */
  probeHost?: (env: NodeJS.ProcessEnv) => Promise<HostBackend>;
}

/** What trainer/probe-class prints: the backend a job picks here and the class it reports. */
export type HostBackend = { backend: string; device: string; gpu: boolean; hardware_class: string } | { error: string };

/** The checkout (or the installed package's build/) the harness's scripts run from. */
const HARNESS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function probeHostBackend(env: NodeJS.ProcessEnv): Promise<HostBackend> {
  const [node, ...args] = scriptArgv('probe-class', HARNESS_DIR);
  return new Promise((done) => {
    execFile(node, args, { cwd: HARNESS_DIR, env, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        return done(JSON.parse(line) as HostBackend);
      } catch {
        done({ error: (stderr || err?.message || 'no output').split('\n').map((l) => l.trim()).find(Boolean) ?? 'failed' });
      }
    });
  });
}

interface CmdResult {
  ok: boolean;
  stdout: string;
  /** first useful line of the error: ENOENT shows as 'not found' */
  error: string;
  notFound: boolean;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout: stdout.trim(), error: '', notFound: false });
      const notFound = (err as NodeJS.ErrnoException).code === 'ENOENT';
      const line = (stderr || err.message).split('\n').map((l) => l.trim()).find(Boolean) ?? 'failed';
      resolve({ ok: false, stdout: stdout?.trim() ?? '', error: notFound ? `${cmd} not found on PATH` : line, notFound });
    });
  });
}

const TOOLKIT_FIX =
  'install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), ' +
  'then `sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker`';

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const minFree = opts.minFreeGiB ?? 20;
  const checks: Check[] = [];

  // GPU and driver, through the harness's own detection so the class matches what results report.
  let smiError = '';
  let smiMissing = false;
  const hardware = detectHardware((cmd, args) => {
    try {
      return execFileSync(cmd, args, { env, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      smiMissing = err.code === 'ENOENT';
      smiError = smiMissing ? 'nvidia-smi not found on PATH' : (err.stderr || err.message).split('\n').map((l) => l.trim()).find(Boolean) ?? 'failed';
      throw e;
    }
  });
  const gpu = hardware.gpus[0];
  if (gpu) {
    checks.push({ name: 'NVIDIA GPU and driver', state: 'ok', detail: `${hardware.gpus.map((g) => g.name).join(', ')} (driver ${gpu.driver}, ${Math.round(gpu.memoryMb / 1024)} GiB)` });
  } else {
    checks.push({
      name: 'NVIDIA GPU and driver',
      state: 'missing',
      detail: smiMissing ? 'no NVIDIA GPU found: nvidia-smi is not installed' : `nvidia-smi failed: ${smiError || 'it lists no GPU'}`,
      fix: smiMissing
        ? 'if this machine has an NVIDIA GPU, install its driver (Ubuntu: `sudo ubuntu-drivers install`; others: https://www.nvidia.com/Download/index.aspx) and reboot; without one it can only run CPU-class jobs'
        : 'the driver is installed but not working: reboot, or reinstall the driver matching your kernel',
    });
  }

  const client = await run('docker', ['version', '--format', '{{.Client.Version}}'], env);
  const engine = client.notFound ? null : await run('docker', ['info', '--format', '{{.ServerVersion}}'], env);
  if (client.notFound) {
    checks.push({ name: 'Docker', state: 'missing', detail: 'Docker is not installed', fix: 'install Docker Engine: https://docs.docker.com/engine/install/ (jobs run in its containers, without network)' });
  } else if (!engine?.ok) {
    checks.push({
      name: 'Docker',
      state: 'missing',
      detail: `the Docker client ${client.stdout || ''} is installed but its engine cannot be reached: ${engine?.error}`.replace('  ', ' '),
      fix: 'start the engine (`sudo systemctl start docker`) and let your user use it (`sudo usermod -aG docker $USER`, then log out and in)',
    });
  } else {
    checks.push({ name: 'Docker', state: 'ok', detail: `engine ${engine.stdout}` });
  }
  const containers = Boolean(engine?.ok);

  let imagePulled = false;
  if (!containers) {
    checks.push({ name: 'Trainer image', state: 'skipped', detail: `${opts.image}: needs a running Docker engine` });
  } else {
    const img = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', opts.image], env);
    imagePulled = img.ok;
    checks.push(
      img.ok
        ? { name: 'Trainer image', state: 'ok', detail: `${opts.image} (${img.stdout.slice(0, 19)})` }
        : { name: 'Trainer image', state: 'missing', detail: `${opts.image} is not pulled`, fix: `docker pull ${opts.image}` },
    );
  }

  if (!gpu || !containers || !imagePulled) {
    const why = [!gpu && 'a GPU', !containers && 'the Docker engine', containers && !imagePulled && 'the trainer image'].filter(Boolean).join(' and ');
    checks.push({ name: 'GPU inside a container', state: 'skipped', detail: `needs ${why}` });
  } else {
    const inside = await run('docker', ['run', '--rm', '--gpus', 'all', '--network', 'none', '--entrypoint', 'nvidia-smi', opts.image, '-L'], env, 180_000);
    checks.push(
      inside.ok && /GPU \d/.test(inside.stdout)
        ? { name: 'GPU inside a container', state: 'ok', detail: inside.stdout.split('\n')[0] }
        : { name: 'GPU inside a container', state: 'missing', detail: `a container cannot use the GPU: ${inside.error || inside.stdout}`, fix: TOOLKIT_FIX },
    );
  }

  // Without Docker, the candidate runs in the bubblewrap sandbox; with neither, jobs fail.
  const sandboxWhy = sandboxProblem(null);
  if (sandboxWhy === null) checks.push({ name: 'Sandbox (bubblewrap)', state: 'ok', detail: containers ? 'works (Docker is used first)' : 'works: jobs run their candidate in it' });
  else if (containers) checks.push({ name: 'Sandbox (bubblewrap)', state: 'skipped', detail: `not needed while Docker works (${sandboxWhy})` });
  else checks.push({ name: 'Sandbox (bubblewrap)', state: 'missing', detail: sandboxWhy, fix: 'sudo apt-get install bubblewrap (or install Docker); see docs/runners.md' });

  await mkdir(opts.cacheDir, { recursive: true });
  const fs = await statfs(opts.cacheDir);
  const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
  checks.push(
    freeGiB >= minFree
      ? { name: 'Disk', state: 'ok', detail: `${freeGiB.toFixed(0)} GiB free in ${opts.cacheDir} (datasets and the runner are cached here; ${minFree} GiB needed)` }
      : {
          name: 'Disk',
          state: 'missing',
          detail: `only ${freeGiB.toFixed(1)} GiB free in ${opts.cacheDir}, ${minFree} GiB needed for the dataset cache, the runner and the image`,
          fix: 'free some space, or point the cache elsewhere with --cache-dir (or $XDG_CACHE_HOME)',
        },
  );

  // The class the runner registers must be the class its results report, or the App rejects
  // every one of them. In Docker a job runs the trainer image (CUDA: the class from nvidia-smi);
  // otherwise it picks its backend on this host as `--backend auto` does: a GPU that only
  // WebGPU drives (AMD, Intel, NVIDIA without tfjs-node-gpu) reports `gpu-<model>-webgpu`.
  let cls = hardwareClass(hardware);
  if (!containers) {
    const host = await (opts.probeHost ?? probeHostBackend)(env);
    if ('error' in host) {
      checks.push({ name: 'Harness backend', state: 'missing', detail: `the harness could not load a backend here: ${host.error}`, fix: 'run `npm ci` in the checkout (or reinstall the package), then doctor again' });
    } else {
      cls = host.hardware_class;
      const unused = gpu && !host.gpu ? ` (the GPU is not used: jobs outside Docker need @tensorflow/tfjs-node-gpu or a Vulkan driver for WebGPU)` : '';
      checks.push({ name: 'Harness backend', state: 'ok', detail: `jobs here train on ${host.backend} (${host.device})${unused}` });
    }
  }

  return { checks, hardware, hardwareClass: cls, containers, sandbox: sandboxWhy === null, ready: checks.every((c) => c.state !== 'missing') };
}

export function formatDoctor(r: DoctorReport): string {
  const mark = { ok: '✓', missing: '✗', skipped: '-' } as const;
  const lines = ['autoresearch-swarm runner doctor', ''];
  for (const c of r.checks) {
    lines.push(`  ${mark[c.state]} ${c.name}: ${c.detail}`);
    if (c.fix) lines.push(`      fix: ${c.fix}`);
  }
  lines.push('');
  const gpuNote = r.hardwareClass.startsWith('cpu-') ? ' (no GPU: this machine would report a CPU class)' : '';
  lines.push(`Hardware class this runner will report: ${r.hardwareClass}${gpuNote}`);
  const missing = r.checks.filter((c) => c.state === 'missing').length;
  lines.push(r.ready ? 'Ready to join the swarm.' : `Not ready: ${missing} problem${missing > 1 ? 's' : ''} above; fix them and run doctor again.`);
  return lines.join('\n');
}
