// The pre-flight pace check, end to end through the real supervisor and children: the App's floor
// for this machine's class is compared with the calibration the train child measures before
// training anyway. The slow machine is made deterministic by a floor no machine reaches.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectHardware, hardwareClass } from '../../trainer/hardware.js';
import { parsePaceFloors } from '../../trainer/pace-floors.js';
import { onDisk, runHarness } from './run-harness.js';

const WORKLOAD = 'matmul-256x256x256x10@wasm';
const cls = hardwareClass(detectHardware(), false);

describe('the pre-flight pace check', () => {
  it('gives the job back before training when the calibration is below the floor of its class', async () => {
    // a budget of 60 s: a harness that trained anyway would take over a minute
    const { result, outDir } = await runHarness('tiny.ts', { budgetSeconds: 60, paceFloors: { [cls]: { [WORKLOAD]: 1e9 } } });
    expect(result.status).toBe('off_pace');
    expect(result.val_bpb).toBeNull();
    expect(result.failure).toBeNull();
    expect(result.steps).toBe(0);
    expect(result.loss_curve).toEqual([]);
    expect(result.total_seconds).toBeLessThan(30);
    expect(result.hardware_class).toBe(cls);
    expect(result.preflight).toEqual({ workload: WORKLOAD, gflops: result.calibration!.before_gflops, floor_gflops: 1e9 });
    expect(result.preflight!.gflops).toBeGreaterThan(0);
    expect(onDisk(outDir)).toEqual(result);
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).toMatch(/below the App's floor of 1000000000: giving the job back/);
    expect(readFileSync(join(outDir, 'train.log'), 'utf8')).not.toMatch(/the clock starts/);
  }, 120_000);

  it('trains as before when the machine is above its floor, and records the check', async () => {
    // a short budget: what counts is that it trained, and the check it recorded
    const { result } = await runHarness('tiny.ts', { budgetSeconds: 0.5, paceFloors: { [cls]: { [WORKLOAD]: 1e-6 }, 'gpu-other': { [WORKLOAD]: 1e9 } } });
    expect(result.status).toBe('ok');
    expect(result.steps).toBeGreaterThan(0);
    expect(result.preflight).toEqual({ workload: WORKLOAD, gflops: result.calibration!.before_gflops, floor_gflops: 1e-6 });
  });

  it('checks nothing when the App sent no floor for this class or workload', async () => {
    const { result } = await runHarness('tiny.ts', { budgetSeconds: 0.5, paceFloors: { [cls]: { 'matmul-1024x1024x1024x20@tensorflow': 1e9 }, 'gpu-other': { [WORKLOAD]: 1e9 } } });
    expect(result.status).toBe('ok');
    expect(result.preflight).toBeUndefined();
  });

  it('refuses malformed floors with one sentence naming the input', () => {
    expect(parsePaceFloors('', 'pace_floors')).toBeNull();
    expect(() => parsePaceFloors('{', 'pace_floors')).toThrow(/pace_floors is not JSON .*"<hardware class>"/);
    expect(() => parsePaceFloors('{"cpu-x": {"w": -1}}', 'pace_floors')).toThrow(/pace_floors at cpu-x\.w: .*positive/);
    expect(() => parsePaceFloors(JSON.stringify({ c: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`workload-${i}`, 1])) }), 'pace_floors')).toThrow(/over the 8192 allowed/);
  });
});
