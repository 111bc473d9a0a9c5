// Makes a simulated run replayable and puts it in virtual time: the App draws nonces and eval
// seeds from node:crypto (randomInt, randomBytes) and the ledger store jitters its retry with
// Math.random; in the simulator these draw from the run's seeded generator instead. `Date.now`
// reads the virtual clock, so every clock of the App (the runner route's hourly limit, the ledger
// store's trust window, token expiry) agrees with the simulated one. Node documents this way of
// replacing a builtin's export for ES modules too: assign on the CommonJS module object, then
// `syncBuiltinESMExports()` (node:module). `restore()` puts the real ones back.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Rng } from './rng.js';

const require = createRequire(import.meta.url);

export function seedTheApp(rng: Rng, now: () => number): () => void {
  const crypto = require('node:crypto');
  const real = { randomInt: crypto.randomInt, randomBytes: crypto.randomBytes, random: Math.random, now: Date.now };
  Date.now = now;
  crypto.randomInt = (a: number, b?: number) => {
    const [lo, hi] = b === undefined ? [0, a] : [a, b];
    return lo + rng.int(hi - lo);
  };
  crypto.randomBytes = (n: number) => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = rng.int(256);
    return out;
  };
  Math.random = () => rng.next();
  syncBuiltinESMExports();
  return () => {
    crypto.randomInt = real.randomInt;
    crypto.randomBytes = real.randomBytes;
    Math.random = real.random;
    Date.now = real.now;
    syncBuiltinESMExports();
  };
}
