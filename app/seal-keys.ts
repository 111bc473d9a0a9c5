// The App's seal key pair (trainer/seal.ts): derived from the GitHub App private key the App
// already keeps (PRIVATE_KEY, or the file PRIVATE_KEY_PATH names, as Probot reads it), so there is
// no second secret to manage and the key is the same after every restart.
import { readFileSync } from 'node:fs';
import { sealKeyPairFrom, type SealKeyPair } from '../trainer/seal.js';

/** The seal key pair of the App's private key in `env`, or null when the environment holds none. */
export function sealKeysFromEnv(env: NodeJS.ProcessEnv): SealKeyPair | null {
  const key = env.PRIVATE_KEY ?? (env.PRIVATE_KEY_PATH ? readFileSync(env.PRIVATE_KEY_PATH, 'utf8') : undefined);
  return key ? sealKeyPairFrom(key.replace(/\\n/g, '\n')) : null;
}
