import { describe, expect, it } from '@jest/globals';
import { cpuClass, describeDevice, detectHardware, gpuClass, hardwareClass, parseNvidiaSmi } from '../../trainer/hardware.js';

// What `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits` prints.
const SMI_H100 = 'NVIDIA H100 80GB HBM3, 81559, 550.54.15\nNVIDIA H100 80GB HBM3, 81559, 550.54.15\n';

describe('hardware class', () => {
  it('parses nvidia-smi and normalises the GPU name with its memory', () => {
    const gpus = parseNvidiaSmi(SMI_H100);
    expect(gpus).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559, driver: '550.54.15' },
      { name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559, driver: '550.54.15' },
    ]);
    expect(hardwareClass({ gpus, cpuModel: 'AMD EPYC 7B13 64-Core Processor', cpuCount: 16 })).toBe('gpu-h100-80gb');
  });

  it('keeps what makes GPUs differ in speed and drops vendor words', () => {
    expect(gpuClass({ name: 'NVIDIA H100 PCIe', memoryMb: 81559, driver: '' })).toBe('gpu-h100-pcie-80gb');
    expect(gpuClass({ name: 'NVIDIA A100-SXM4-40GB', memoryMb: 40960, driver: '' })).toBe('gpu-a100-sxm4-40gb');
    expect(gpuClass({ name: 'NVIDIA GeForce RTX 4090', memoryMb: 24564, driver: '' })).toBe('gpu-rtx-4090-24gb');
    expect(gpuClass({ name: 'Tesla T4', memoryMb: 15360, driver: '' })).toBe('gpu-t4-15gb');
  });

  it('normalises CPU models', () => {
    expect(cpuClass('AMD EPYC 7B13 64-Core Processor')).toBe('cpu-amd-epyc-7b13');
    expect(cpuClass('Intel(R) Xeon(R) CPU @ 2.20GHz')).toBe('cpu-intel-xeon');
    expect(cpuClass('Intel(R) Core(TM) i9-13900K')).toBe('cpu-intel-core-i9-13900k');
  });

  it('uses the CPU class when the run did not use the GPU (tfjs-node-gpu without CUDA)', () => {
    const info = { gpus: parseNvidiaSmi(SMI_H100), cpuModel: 'AMD EPYC 7B13 64-Core Processor', cpuCount: 16 };
    expect(hardwareClass(info, false)).toBe('cpu-amd-epyc-7b13');
    expect(describeDevice(info, false, 'tfjs-node-gpu is running on the CPU')).toBe(
      'CPU: AMD EPYC 7B13 64-Core Processor x16; tfjs-node-gpu is running on the CPU',
    );
    expect(describeDevice(info, true)).toBe('NVIDIA H100 80GB HBM3 (CUDA, driver 550.54.15)');
  });

  it('detects a machine without nvidia-smi as CPU-only', () => {
    const info = detectHardware(() => {
      throw new Error('spawn nvidia-smi ENOENT');
    });
    expect(info.gpus).toEqual([]);
    expect(hardwareClass(info)).toMatch(/^cpu-[a-z0-9-]+$/);
  });
});
