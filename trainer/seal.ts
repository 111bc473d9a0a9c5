// A sealed box: what only the App may read of a result, sealed on the runner to the App's key.
//
// A result's artifact and log are public (anyone with read access to the repository downloads
// them). What proves that a run trained (the digest of its checkpoint, which a replay of the same
// schedule reproduces bit for bit on a deterministic backend) must therefore not appear in them
// in clear, or a replayer that never trained would copy it. The harness seals it to the App's
// X25519 public key (the workflow's `seal_key` input); the App opens it with its private key and
// checks that the sealed nonce is the run's own, so a sealed box copied from another run is
// useless. Construction: ephemeral X25519, HKDF-SHA256 over the shared secret (salt: both public
// keys), AES-256-GCM; node:crypto only.
import crypto from 'node:crypto';

const INFO = Buffer.from('autoresearch-swarm seal v1');
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export interface SealKeyPair {
  privateKey: crypto.KeyObject;
  /** the raw 32-byte public key, base64 (the workflow's `seal_key` input) */
  publicKey: string;
}

function rawPublic(k: crypto.KeyObject): Buffer {
  const der = k.export({ type: 'spki', format: 'der' }) as Buffer;
  return der.subarray(der.length - 32);
}

function publicFrom(b64: string): { key: crypto.KeyObject; raw: Buffer } {
  const raw = typeof b64 === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(b64) ? Buffer.from(b64, 'base64') : null;
  if (!raw || raw.length !== 32) throw new Error(`the seal key must be a raw X25519 public key, 32 bytes in base64 (44 characters), got ${JSON.stringify(String(b64).slice(0, 60))}`);
  return { key: crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' }), raw };
}

/**
 * The App's seal key pair, derived from a secret it already keeps (its GitHub App private key):
 * no second secret to manage, and the same key after every restart.
 */
export function sealKeyPairFrom(secret: string | Buffer): SealKeyPair {
  const seed = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), Buffer.from('autoresearch-swarm seal key v1'), 32));
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: rawPublic(crypto.createPublicKey(privateKey)).toString('base64') };
}

function keyFor(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

/** Seals `plaintext` to the base64 X25519 public key; returns base64(ephemeral public 32 | iv 12 | tag 16 | ciphertext). */
export function seal(publicKeyB64: string, plaintext: string): string {
  const to = publicFrom(publicKeyB64);
  const eph = crypto.generateKeyPairSync('x25519');
  const ephRaw = rawPublic(eph.publicKey);
  const key = keyFor(crypto.diffieHellman({ privateKey: eph.privateKey, publicKey: to.key }), ephRaw, to.raw);
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return Buffer.concat([ephRaw, iv, c.getAuthTag(), ct]).toString('base64');
}

/** Opens a sealed box with the App's key pair; throws one error when it was not sealed to this key or was altered. */
export function open(keys: SealKeyPair, sealed: string): string {
  const buf = typeof sealed === 'string' && sealed.length <= 64 * 1024 ? Buffer.from(sealed, 'base64') : Buffer.alloc(0);
  if (buf.length < 32 + 12 + 16) throw new Error('a sealed box is at least 60 bytes of base64; this one is not');
  const ephRaw = buf.subarray(0, 32);
  const eph = publicFrom(ephRaw.toString('base64'));
  const key = keyFor(crypto.diffieHellman({ privateKey: keys.privateKey, publicKey: eph.key }), ephRaw, Buffer.from(keys.publicKey, 'base64'));
  const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(32, 44));
  d.setAuthTag(buf.subarray(44, 60));
  try {
    return Buffer.concat([d.update(buf.subarray(60)), d.final()]).toString('utf8');
  } catch {
    throw new Error('the sealed box does not open with the App\'s seal key: sealed to another key, or altered');
  }
}
