// This runner's hardware as the harness would classify it, for the job log and summary
// (the result's own device and class come from the harness run itself).
import { describeDevice, detectHardware, hardwareClass } from '../../trainer/hardware.js';

export interface RunnerHardware {
  description: string;
  hardwareClass: string;
}

export async function describeHardware(): Promise<RunnerHardware> {
  const info = detectHardware();
  const gpu = info.gpus[0];
  const description = gpu
    ? `${describeDevice(info, true)}, ${gpu.memoryMb} MiB${info.gpus.length > 1 ? `, ${info.gpus.length} GPUs` : ''}`
    : describeDevice(info, false);
  return { description, hardwareClass: hardwareClass(info) };
}
