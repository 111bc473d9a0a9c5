// The backend a job's `--backend auto` takes on this host, and the hardware class its results
// will report: `runner doctor` registers that class, so it runs this (a child process: Dawn and
// the native backends load here, not in the CLI). One JSON line on stdout.
//   node --import tsx trainer/probe-class.ts
import { loadBackend } from './backend.js';

try {
  const be = await loadBackend('auto');
  const device = be.adapter ? `${be.adapter.description || be.adapter.device} (WebGPU)` : be.gpu ? 'GPU' : 'CPU';
  process.stdout.write(`${JSON.stringify({ backend: be.backend, device, gpu: be.gpu, hardware_class: be.device.hardwareClass, skipped: be.skipped })}\n`);
  be.close?.();
  process.exit(0);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: (e as Error).message.split('\n')[0] })}\n`);
  process.exit(1);
}
