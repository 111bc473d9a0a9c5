// Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
// numbers and strings as ECMAScript serializes them (which is what RFC 8785 specifies).
// Hashes are taken over this text, so two writers that build the same value in a different
// key order get the same hash.

export function canonicalJson(v: unknown): string {
  return write(v, '$');
}

function write(v: unknown, where: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      // NaN/Infinity would silently become null in JSON and break the hash on re-read.
      if (!Number.isFinite(v)) throw new Error(`canonicalJson: ${where} is ${v}; only finite numbers can be hashed.`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => (x === undefined ? 'null' : write(x, `${where}[${i}]`))).join(',')}]`;
      const obj = v as Record<string, unknown>;
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        throw new Error(`canonicalJson: ${where} is a ${proto?.constructor?.name ?? 'class instance'}; only plain objects can be hashed.`);
      }
      // Properties holding undefined are absent once written as JSON, so they are absent here too.
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new Error(`canonicalJson: ${where} is a ${typeof v}; only JSON values can be hashed.`);
  }
}
