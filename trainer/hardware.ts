// What machine a run used, and the hardware class results are compared within.
// `hardwareClass` is a pure function so the Action and the App can apply the same rule.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface GpuInfo {
  name: string; // as nvidia-smi prints it, e.g. "NVIDIA H100 80GB HBM3"
  memoryMb: number; // total, MiB
  driver: string;
}

export interface HardwareInfo {
  gpus: GpuInfo[];
  cpuModel: string; // e.g. "AMD EPYC 7B13 64-Core Processor"
  cpuCount: number;
}

const SMI_QUERY = ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'];

/** Parse `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const cells = line.split(',').map((c) => c.trim());
      const [driver, mem] = [cells.pop() ?? '', cells.pop() ?? ''];
      return { name: cells.join(','), memoryMb: Number.parseInt(mem, 10) || 0, driver };
    });
}

export function detectHardware(run: (cmd: string, args: string[]) => string = defaultRun): HardwareInfo {
  let gpus: GpuInfo[] = [];
  try {
    gpus = parseNvidiaSmi(run('nvidia-smi', SMI_QUERY));
  } catch {
    gpus = []; // no NVIDIA driver: a CPU machine
  }
  const list = cpus();
  return { gpus, cpuModel: (list[0]?.model ?? 'unknown cpu').trim(), cpuCount: list.length };
}

function defaultRun(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

function slug(words: string[]): string {
  return words
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const GPU_NOISE = /^(nvidia|geforce|tesla|quadro|hbm\d?e?|gddr\d\w*|\d+gb)$/i;
const CPU_NOISE = /^(\(r\)|\(tm\)|cpu|processor|\d+-core|@|[\d.]+ghz)$/i;

export function gpuClass(gpu: GpuInfo): string {
  const words = gpu.name.replace(/[-\s]?\d+\s*GB\b/gi, ' ').split(/\s+/).filter((w) => w && !GPU_NOISE.test(w));
  // the memory size the name states (80GB), else the driver's figure rounded to GiB
  const stated = /(\d+)\s*GB/i.exec(gpu.name);
  const gb = stated ? Number(stated[1]) : Math.round(gpu.memoryMb / 1024);
  return `gpu-${slug(words)}-${gb}gb`;
}

export function cpuClass(model: string): string {
  const words = model
    .replace(/\((r|tm)\)/gi, ' ')
    .split(/\s+/)
    .filter((w) => w && !CPU_NOISE.test(w));
  return `cpu-${slug(words) || 'unknown'}`;
}

/** The class a run on this machine belongs to: its first GPU if the run used one, else its CPU. */
export function hardwareClass(info: HardwareInfo, usedGpu = info.gpus.length > 0): string {
  return usedGpu && info.gpus.length > 0 ? gpuClass(info.gpus[0]) : cpuClass(info.cpuModel);
}

/** Human-readable device string for the result. */
export function describeDevice(info: HardwareInfo, usedGpu: boolean, note = ''): string {
  const base = usedGpu && info.gpus.length > 0 ? `${info.gpus[0].name} (CUDA, driver ${info.gpus[0].driver})` : `CPU: ${info.cpuModel} x${info.cpuCount}`;
  return note ? `${base}; ${note}` : base;
}
