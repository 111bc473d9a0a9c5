// GitHub's REST description (`@octokit/openapi`, api.github.com) as a checker for the faked
// GitHub: is a request a real operation used as documented, and is an answer one GitHub could
// give (a declared status, a body of the declared shape)? Pure: no nock, no jest. The scenario
// tests check every request and answer; the simulator samples (see sim/github/fetch.ts).
//
// Besides what the schema states (types, enums, required fields, min/max, lengths, patterns),
// `DOCUMENTED_RULES` holds the rules GitHub documents in prose that the schema cannot express,
// each with the sentence and page it comes from.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Json = any; // the OpenAPI document is untyped JSON
export interface Operation {
  template: string;
  method: string;
  segments: string[];
  params: Json[];
  body: Json | null;
  responses: Record<string, Json>;
}

let spec: Json | null = null;
let operations: Operation[] | null = null;
const byMethod = new Map<string, Operation[]>();

function load(): Operation[] {
  if (operations) return operations;
  // The non-dereferenced document is 13 MB (the dereferenced one is 73 MB); $refs are resolved lazily.
  spec = require('@octokit/openapi/generated/api.github.com.json');
  operations = [];
  for (const [template, item] of Object.entries<Json>(spec.paths)) {
    const shared: Json[] = item.parameters ?? [];
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head']) {
      const op = item[method];
      if (!op) continue;
      const params = [...shared, ...(op.parameters ?? [])].map(resolve);
      const body = op.requestBody ? resolve(op.requestBody).content?.['application/json']?.schema ?? null : null;
      const o: Operation = { template, method: method.toUpperCase(), segments: template.split('/').slice(1), params, body, responses: op.responses ?? {} };
      operations.push(o);
      byMethod.set(o.method, [...(byMethod.get(o.method) ?? []), o]);
    }
  }
  return operations;
}

function resolve(node: Json): Json {
  let n = node;
  while (n && typeof n === 'object' && typeof n.$ref === 'string') {
    n = n.$ref
      .slice(2)
      .split('/')
      .reduce((acc: Json, key: string) => acc?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return n;
}

const found = new Map<string, { op: Operation; values: Record<string, string> } | null>();

/** Matches a request path to its template: literal segments beat parameters; the last parameter may span slashes (contents paths, git refs). */
export function findOperation(method: string, pathname: string): { op: Operation; values: Record<string, string> } | null {
  const key = `${method} ${pathname}`;
  const hit = found.get(key);
  if (hit !== undefined) return hit;
  load();
  const parts = pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  let best: { op: Operation; values: Record<string, string>; literals: number } | null = null;
  for (const op of byMethod.get(method) ?? []) {
    const segs = op.segments;
    // only a file path or a git ref may contain slashes
    const lastIsParam = /^\{(path|ref)\}$/.test(segs[segs.length - 1] ?? '');
    if (parts.length !== segs.length && !(lastIsParam && parts.length > segs.length)) continue;
    const values: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const seg = segs[i];
      const whole = seg.match(/^\{([^}]+)\}$/);
      const part = i === segs.length - 1 ? parts.slice(i).join('/') : parts[i];
      if (whole) {
        if (part === '') ok = false;
        values[whole[1]] = part;
      } else if (seg.includes('{')) {
        const re = new RegExp('^' + seg.replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)') + '$');
        const m = part.match(re);
        if (!m) ok = false;
        else Object.assign(values, m.groups);
      } else if (seg === part) literals++;
      else ok = false;
    }
    if (ok && (!best || literals > best.literals)) best = { op, values, literals };
  }
  const out = best && { op: best.op, values: best.values };
  if (found.size > 5000) found.clear();
  found.set(key, out);
  return out;
}

const patterns = new Map<string, RegExp | null>();
function pattern(p: string): RegExp | null {
  if (!patterns.has(p)) {
    try {
      patterns.set(p, new RegExp(p, 'u'));
    } catch {
      patterns.set(p, null); // a pattern in a dialect JavaScript does not read: not checked
    }
  }
  return patterns.get(p)!;
}

/**
 * Problems of one value against a schema: types, enums, required and undeclared fields, and the
 * constraints the description states (minimum, maximum, minLength, maxLength, pattern,
 * maxItems, maxProperties, format date-time). Nested objects are checked to depth 6.
 */
export function checkValue(schema: Json, value: unknown, where: string, depth = 0, opts: { extraFields?: boolean } = {}): string[] {
  const s = resolve(schema);
  if (!s || typeof s !== 'object') return [];
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[key])) {
      const results = s[key].map((alt: Json) => checkValue(alt, value, where, depth, opts));
      return results.some((r: string[]) => r.length === 0) ? [] : results[0];
    }
  }
  if (Array.isArray(s.allOf)) return s.allOf.flatMap((alt: Json) => checkValue(alt, value, where, depth, opts));
  if (value === null) return s.nullable || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')) ? [] : [`${where} must not be null`];
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length && !types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
    return [`${where} is ${actual} but the description says ${types.join('|')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) return [`${where} is ${JSON.stringify(value)}, not one of ${s.enum.join(', ')}`];
  const problems: string[] = [];
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) problems.push(`${where} is ${value}, below the minimum ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) problems.push(`${where} is ${value}, above the maximum ${s.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) problems.push(`${where} is ${value.length} characters, over the maximum ${s.maxLength}`);
    if (typeof s.minLength === 'number' && value.length < s.minLength) problems.push(`${where} is ${value.length} characters, under the minimum ${s.minLength}`);
    if (typeof s.pattern === 'string' && pattern(s.pattern) && !pattern(s.pattern)!.test(value)) problems.push(`${where} ${JSON.stringify(value.slice(0, 40))} does not match the pattern ${s.pattern}`);
    if (s.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) problems.push(`${where} ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  }
  if (actual === 'array') {
    const arr = value as unknown[];
    if (typeof s.maxItems === 'number' && arr.length > s.maxItems) problems.push(`${where} has ${arr.length} items, over the maximum ${s.maxItems}`);
    // arrays are checked on their first items: a long listing repeats one shape
    if (s.items && depth < 6) problems.push(...arr.slice(0, 3).flatMap((v, i) => checkValue(s.items, v, `${where}[${i}]`, depth + 1, opts)));
  }
  if (actual === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof s.maxProperties === 'number' && Object.keys(obj).length > s.maxProperties) problems.push(`${where} has ${Object.keys(obj).length} properties, over the maximum ${s.maxProperties}`);
    if (s.properties && depth < 6) {
      for (const req of s.required ?? []) if (!(req in obj)) problems.push(`${where}.${req} is required`);
      for (const [k, v] of Object.entries(obj)) {
        if (s.properties[k]) problems.push(...checkValue(s.properties[k], v, `${where}.${k}`, depth + 1, opts));
        else if (!s.additionalProperties && !opts.extraFields) problems.push(`${where}.${k} is not a field of this operation`);
      }
    }
  }
  return problems;
}

/** A request as the checks see it: the body parsed (undefined when none or not JSON). */
export interface CheckedRequest {
  method: string;
  url: URL;
  body: unknown;
  op: Operation;
}

/**
 * Rules GitHub documents in words, not in the schema. Each was read in the REST reference
 * (docs.github.com/rest) before it was written here; the page is named with the rule.
 */
export const DOCUMENTED_RULES: { name: string; source: string; check(r: CheckedRequest): string | null }[] = [
  {
    name: 'per_page at most 100',
    source: 'docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api: "per_page ... The number of results per page (max 100)"',
    check: ({ url }) => {
      const v = url.searchParams.get('per_page');
      return v !== null && (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100) ? `query parameter per_page is ${v}; GitHub serves 1 to 100 per page` : null;
    },
  },
  {
    name: 'contents PUT content is base64',
    source: 'docs.github.com/rest/repos/contents#create-or-update-file-contents: "content: The new file content, using Base64 encoding."',
    check: ({ op, body }) => {
      if (op.template !== '/repos/{owner}/{repo}/contents/{path}' || op.method !== 'PUT') return null;
      const c = (body as { content?: unknown })?.content;
      return typeof c === 'string' && !isBase64(c) ? 'body.content is not Base64 (the description: "The new file content, using Base64 encoding")' : null;
    },
  },
  {
    name: 'merge sha is a full commit sha',
    source: 'docs.github.com/rest/pulls/pulls#merge-a-pull-request: "sha: SHA that pull request head must match to allow merge." (a head SHA is 40 hex digits)',
    check: ({ op, body }) => {
      if (op.template !== '/repos/{owner}/{repo}/pulls/{pull_number}/merge') return null;
      const sha = (body as { sha?: unknown })?.sha;
      return sha !== undefined && !(typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha)) ? `body.sha ${JSON.stringify(sha)} is not a 40-hex-digit head SHA` : null;
    },
  },
  {
    name: 'a completed check run has a conclusion',
    source: 'docs.github.com/rest/checks/runs#create-a-check-run and #update-a-check-run: "conclusion: Required if you provide completed_at or a status of completed"',
    check: ({ op, body }) => {
      if (op.template !== '/repos/{owner}/{repo}/check-runs' && op.template !== '/repos/{owner}/{repo}/check-runs/{check_run_id}') return null;
      const b = (body ?? {}) as { status?: string; conclusion?: string; completed_at?: string };
      return (b.status === 'completed' || b.completed_at !== undefined) && b.conclusion === undefined ? 'a check run with status completed (or completed_at) needs a conclusion' : null;
    },
  },
  {
    name: 'workflow dispatch input values are strings, numbers or booleans',
    source: 'docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event: "inputs: Input keys and values configured in the workflow file. The maximum number of properties is 25."',
    check: ({ op, body }) => {
      if (op.template !== '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches') return null;
      const inputs = (body as { inputs?: Record<string, unknown> })?.inputs ?? {};
      const bad = Object.entries(inputs).filter(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
      return bad.length ? `inputs ${bad.map(([k]) => k).join(', ')} are not strings, numbers or booleans` : null;
    },
  },
  {
    name: 'an issue comment is at most 65536 characters',
    source: 'docs.github.com/rest/issues/comments: GitHub answers 422 "Body is too long (maximum is 65536 characters)"',
    check: ({ op, body }) => {
      if (!/^\/repos\/\{owner\}\/\{repo\}\/issues\/(\{issue_number\}\/)?comments/.test(op.template)) return null;
      const b = (body as { body?: unknown })?.body;
      return typeof b === 'string' && b.length > 65536 ? `body.body is ${b.length} characters; GitHub's limit for a comment is 65536` : null;
    },
  },
];

/** Base64 as GitHub reads it (line breaks allowed). Native regex scans only: contents can be megabytes. */
export function isBase64(s: string): boolean {
  if (/[^A-Za-z0-9+/=\s]/.test(s) || /=[^=\s]/.test(s)) return false;
  const t = /\s/.test(s) ? s.replace(/\s+/g, '') : s;
  return t.length % 4 === 0 && !/={3,}$/.test(t);
}

/** The problem with one request, or null when it is a real operation used correctly. */
export function checkOperation(method: string, url: string, bodyText?: string): string | null {
  const u = new URL(url, 'https://api.github.com');
  const m = method.toUpperCase();
  const hit = findOperation(m, u.pathname);
  const label = `${m} ${u.pathname}`;
  if (!hit) return `${label} is not an operation of GitHub's REST API (api.github.com description)`;
  const { op, values } = hit;
  const problems: string[] = [];
  for (const p of op.params) {
    if (p.in === 'path') {
      const v = values[p.name];
      const schema = resolve(p.schema);
      const asValue = schema?.type === 'integer' && /^\d+$/.test(v) ? Number(v) : v;
      problems.push(...checkValue(p.schema, asValue, `path parameter ${p.name}`));
    } else if (p.in === 'query' && u.searchParams.has(p.name)) {
      const v = u.searchParams.get(p.name)!;
      const schema = resolve(p.schema);
      const t = schema?.type;
      const asValue = t === 'integer' && /^-?\d+$/.test(v) ? Number(v) : t === 'boolean' && /^(true|false)$/.test(v) ? v === 'true' : v;
      problems.push(...checkValue(p.schema, asValue, `query parameter ${p.name}`));
    }
  }
  const declared = new Set(op.params.filter((p) => p.in === 'query').map((p) => p.name));
  for (const key of u.searchParams.keys()) {
    if (!declared.has(key)) problems.push(`query parameter ${key} is not declared`);
  }
  let body: unknown;
  if (bodyText && bodyText.length > 0) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    if (body === undefined) {
      if (op.body) problems.push('the body is not JSON');
    } else if (!op.body) {
      if (typeof body === 'object' && body && Object.keys(body).length) problems.push('this operation takes no body');
    } else {
      problems.push(...checkValue(op.body, body, 'body'));
    }
  } else if (op.body) {
    const required = resolve(op.body)?.required ?? [];
    if (required.length) problems.push(`body fields ${required.join(', ')} are required`);
  }
  for (const rule of DOCUMENTED_RULES) {
    const p = rule.check({ method: m, url: u, body, op });
    if (p) problems.push(p);
  }
  return problems.length ? `${label} (${op.method} ${op.template}): ${problems.join('; ')}` : null;
}

/** Statuses GitHub may answer to any operation, documented outside each operation's own list. */
function generallyDocumented(status: number, headers: Record<string, string>, body?: unknown): boolean {
  // 304 to a conditional request (docs: "Use conditional requests if appropriate"); 5xx outages;
  // 403/429 of a primary or secondary rate limit (docs: rate limits for the REST API; a secondary
  // limit may come without retry-after, its message says so).
  if (status === 304 || status >= 500) return true;
  if ((status === 403 || status === 429) && (headers['retry-after'] !== undefined || headers['x-ratelimit-remaining'] === '0')) return true;
  const message = (body as { message?: unknown } | null)?.message;
  if ((status === 403 || status === 429) && typeof message === 'string' && /rate limit/i.test(message)) return true;
  return false;
}

/**
 * The problem with one answer of the fake, or null when GitHub documents it: the status is one
 * the operation declares (or one every operation may give), and a JSON body has the declared
 * shape. Extra fields are allowed in answers: GitHub adds fields without notice.
 */
export function checkResponse(method: string, url: string, status: number, body: unknown, headers: Record<string, string> = {}): string | null {
  const u = new URL(url, 'https://api.github.com');
  const hit = findOperation(method.toUpperCase(), u.pathname);
  if (!hit) return null; // the request check reports it
  const { op } = hit;
  const label = `${method.toUpperCase()} ${u.pathname} -> ${status}`;
  const declared = op.responses[String(status)];
  if (!declared) {
    if (generallyDocumented(status, headers, body)) return null;
    return `${label}: GitHub's description lists ${Object.keys(op.responses).join(', ')} for ${op.method} ${op.template}, not ${status}`;
  }
  const r = resolve(declared);
  const schema = r?.content?.['application/json']?.schema ?? r?.content?.['application/scim+json']?.schema;
  if (!schema || body === undefined || body === '' || typeof body === 'string' || body instanceof Uint8Array) return null;
  const problems = checkValue(schema, body, 'response', 0, { extraFields: true });
  return problems.length ? `${label} (${op.method} ${op.template}): ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}` : null;
}

/** The description's own example answer of an operation (a template the fake fills in), or null. */
export function exampleResponse(method: string, template: string, status: number): Json | null {
  load();
  const op = byMethod.get(method)?.find((o) => o.template === template);
  const r = op && resolve(op.responses[String(status)]);
  const ex = r?.content?.['application/json']?.examples;
  if (!ex) return null;
  const first = resolve(Object.values<Json>(ex)[0]);
  return first?.value !== undefined ? structuredClone(first.value) : null;
}
