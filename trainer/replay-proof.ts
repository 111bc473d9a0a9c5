// A run's replay block (result.replay; docs/trust.md, "Replays"): the schedule it trained on, the
// schedule it was asked to replay, and the proof that it trained, the sha256 of the checkpoint
// the eval children got. With a seal key (official runs: the App's X25519 key) the proof is
// sealed to it with the job's nonce and never written in clear anywhere (result, log, stdout);
// without one (local runs) it is in clear, so two local runs can be compared.
import { sha256 } from './harness-version.js';
import { decodeSchedule, encodeSchedule, type Schedule } from './replay-schedule.js';
import type { ExperimentResult } from './result.js';
import { RunFailure } from './run-failure.js';
import { seal } from './seal.js';

/** as the Action's nonce input (action/src/inputs.ts) */
const NONCE = /^[A-Za-z0-9_-]{8,128}$/;

export interface ReplayOptions {
  /** the schedule to replay (replay.schedule of a result, or a step budget's); null: on the clock */
  replay?: string | null;
  /** the App's X25519 public key, base64; null: the digest goes in clear */
  sealKey?: string | null;
  /** the job's nonce, sealed with the digest; required with a seal key */
  nonce?: string | null;
}

/** Checks the replay options before anything runs; returns the schedule to replay, or null. */
export function prepareReplay(o: ReplayOptions): Schedule | null {
  if (o.sealKey) {
    try {
      seal(o.sealKey, '');
    } catch (e) {
      throw new RunFailure('harness_error', `--seal-key: ${(e as Error).message}`);
    }
    if (!o.nonce || !NONCE.test(o.nonce)) {
      throw new RunFailure('harness_error', `a seal key needs the job's nonce (--nonce, 8 to 128 letters, digits, "-" or "_"), sealed with the digest so that a box copied from another run is useless; got ${JSON.stringify(o.nonce ?? null)}.`);
    }
  }
  if (o.replay === undefined || o.replay === null || o.replay === '') return null;
  try {
    return decodeSchedule(o.replay);
  } catch (e) {
    throw new RunFailure('harness_error', `--replay: ${(e as Error).message}`);
  }
}

/** The checkpoint's digest, and how a log may mention it. */
export function checkpointDigest(checkpoint: Uint8Array, o: ReplayOptions): { digest: string; logLine: string } {
  const digest = sha256(checkpoint);
  return { digest, logLine: o.sealKey ? "[harness] checkpoint digest: sealed to the App's key (result.replay.sealed)" : `[harness] checkpoint sha256 ${digest}` };
}

/** result.replay of a run that trained (null when it never got a checkpoint). */
export function replayBlock(trained: { schedule: Schedule; digest: string } | null, o: ReplayOptions, valBpb: number | null): ExperimentResult['replay'] {
  if (!trained) return null;
  const base = { schedule: encodeSchedule(trained.schedule), of: o.replay || null };
  if (!o.sealKey) return { ...base, digest: trained.digest };
  return { ...base, sealed: seal(o.sealKey, JSON.stringify({ nonce: o.nonce, digest: trained.digest, val_bpb: valBpb })) };
}
