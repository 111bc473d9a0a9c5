// Achieved FLOP/s and model FLOP utilisation for the trainer benchmark. tfjs trains in fp32 on
// every backend, so the peak that matters is a device's fp32 (non-tensor-core) figure.

/** Training FLOPs per token of a dense transformer: 6 per parameter (forward 2, backward 4). */
export function achievedFlops(params: number, tokensPerSecond: number): number {
  return 6 * params * tokensPerSecond;
}

/** fp32 peaks from the vendors' data sheets (dense, boost clock), by a pattern on the device string. */
const PEAKS: [RegExp, string, number][] = [
  [/\bH200\b/i, 'H200 SXM fp32 67 TFLOP/s', 67e12],
  [/\bH100\b.*\bPCIe\b/i, 'H100 PCIe fp32 51 TFLOP/s', 51e12],
  [/\bH100\b/i, 'H100 SXM fp32 67 TFLOP/s', 67e12],
  [/\bA100\b/i, 'A100 fp32 19.5 TFLOP/s', 19.5e12],
  [/\bL40S\b/i, 'L40S fp32 91.6 TFLOP/s', 91.6e12],
  [/\bL4\b/i, 'L4 fp32 30.3 TFLOP/s', 30.3e12],
  [/\bRTX 4090\b/i, 'RTX 4090 fp32 82.6 TFLOP/s', 82.6e12],
  [/\bRTX 3090\b/i, 'RTX 3090 fp32 35.6 TFLOP/s', 35.6e12],
  [/\bT4\b/i, 'T4 fp32 8.1 TFLOP/s', 8.1e12],
];

export function peakFlops(device: string): { name: string; flops: number } | null {
  const hit = PEAKS.find(([re]) => re.test(device));
  return hit ? { name: hit[1], flops: hit[2] } : null;
}
