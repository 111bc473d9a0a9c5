// The simulated harness's sealed box: trainer/seal.ts's construction (ephemeral X25519, HKDF-SHA256
// with both public keys as salt, AES-256-GCM), with the ephemeral key and the iv drawn from the
// run's seeded generator instead of node:crypto's, so that a seeded run writes the same result.json
// (and ledger) byte for byte. trainer/seal.ts's `open`, which the App uses, opens these boxes
// (test/sim/replay-model.test.ts checks it, so the two constructions cannot drift apart).
import crypto from 'node:crypto';
import { sealKeyPairFrom } from '../trainer/seal.js';
import type { Rng } from './rng.js';

const INFO = Buffer.from('autoresearch-swarm seal v1');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

const bytes = (rng: Rng, n: number): Buffer => {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
};

/** seal(publicKeyB64, plaintext) of trainer/seal.ts, its randomness drawn from `rng`. */
export function sealSeeded(rng: Rng, publicKeyB64: string, plaintext: string): string {
  const raw = Buffer.from(publicKeyB64, 'base64');
  if (raw.length !== 32) throw new Error(`the seal key must be a raw X25519 public key, 32 bytes in base64, got ${JSON.stringify(publicKeyB64.slice(0, 60))}`);
  const to = crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
  // an ephemeral key pair from 32 seeded bytes (the App derives its own pair the same way)
  const eph = sealKeyPairFrom(bytes(rng, 32));
  const ephRaw = Buffer.from(eph.publicKey, 'base64');
  const shared = crypto.diffieHellman({ privateKey: eph.privateKey, publicKey: to });
  const key = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.concat([ephRaw, raw]), INFO, 32));
  const iv = bytes(rng, 12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([ephRaw, iv, c.getAuthTag(), ct]).toString('base64');
}
