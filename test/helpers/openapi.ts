/**
 * Checks that every nock-mocked GitHub request is a real operation of GitHub's REST description
 * (`@octokit/openapi`, api.github.com): the method and path exist, path parameters are valid for
 * their schema, query parameters are declared, and JSON body fields are declared, present when
 * required and of the declared type.
 *
 * Use:
 * ```ts
 * import { gitHubApi, expectRealGitHubCalls, recordedCalls, resetRecordedCalls } from '../helpers/openapi.js';
 * beforeEach(() => { nock.disableNetConnect(); resetRecordedCalls(); });
 * const api = gitHubApi()                       // = nock('https://api.github.com') + the checks
 *   .get('/repos/o/r/pulls/1').reply(200, {...});
 * ... run the code under test ...
 * expectRealGitHubCalls();   // throws naming every request that is not a real operation
 * expect(nock.pendingMocks()).toEqual([]);
 * recordedCalls();           // ['GET /repos/{owner}/{repo}/pulls/{pull_number}', ...] since the reset
 * ```
 * `checkOperation(method, url, body)` is the same check for one request, without nock.
 */
import { createRequire } from 'node:module';
import { afterAll } from '@jest/globals';
import nock from 'nock';

const require = createRequire(import.meta.url);

type Json = any; // the OpenAPI document is untyped JSON
interface Operation {
  template: string;
  method: string;
  segments: string[];
  params: Json[];
  body: Json | null;
}

// Jest gives each test file its own nock module, but they share one process-wide fetch: a nock
// left active by an earlier file in the same worker would swallow this file's requests
// ("Disallowed net connect"). Every file that imports this helper hands fetch back at its end.
afterAll(() => {
  nock.cleanAll();
  nock.restore();
});

let spec: Json | null = null;
let operations: Operation[] | null = null;

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
      operations.push({ template, method: method.toUpperCase(), segments: template.split('/').slice(1), params, body });
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

/** Matches a request path to its template: literal segments beat parameters; the last parameter may span slashes (contents paths, git refs). */
function findOperation(method: string, pathname: string): { op: Operation; values: Record<string, string> } | null {
  const parts = pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  let best: { op: Operation; values: Record<string, string>; literals: number } | null = null;
  for (const op of load()) {
    if (op.method !== method) continue;
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
        // mixed segments such as "{ref}.diff" do not occur in the App's calls; compare as a pattern
        const re = new RegExp('^' + seg.replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)') + '$');
        const m = part.match(re);
        if (!m) ok = false;
        else Object.assign(values, m.groups);
      } else if (seg === part) literals++;
      else ok = false;
    }
    if (ok && (!best || literals > best.literals)) best = { op, values, literals };
  }
  return best && { op: best.op, values: best.values };
}

/** Problems of one value against a schema (shallow for nested objects: names, required, types, enums). */
function checkValue(schema: Json, value: unknown, where: string, depth = 0): string[] {
  const s = resolve(schema);
  if (!s || typeof s !== 'object') return [];
  for (const key of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[key])) {
      const results = s[key].map((alt: Json) => checkValue(alt, value, where, depth));
      return results.some((r: string[]) => r.length === 0) ? [] : results[0];
    }
  }
  if (Array.isArray(s.allOf)) return s.allOf.flatMap((alt: Json) => checkValue(alt, value, where, depth));
  if (value === null) return s.nullable || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')) ? [] : [`${where} must not be null`];
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (types.length && !types.some((t) => t === actual || (t === 'number' && actual === 'integer'))) {
    return [`${where} is ${actual} but the description says ${types.join('|')}`];
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) return [`${where} is ${JSON.stringify(value)}, not one of ${s.enum.join(', ')}`];
  if (actual === 'array' && s.items && depth < 4) {
    return (value as unknown[]).flatMap((v, i) => checkValue(s.items, v, `${where}[${i}]`, depth + 1));
  }
  if (actual === 'object' && s.properties && depth < 4) {
    const obj = value as Record<string, unknown>;
    const problems: string[] = [];
    for (const req of s.required ?? []) if (!(req in obj)) problems.push(`${where}.${req} is required`);
    for (const [k, v] of Object.entries(obj)) {
      if (s.properties[k]) problems.push(...checkValue(s.properties[k], v, `${where}.${k}`, depth + 1));
      else if (!s.additionalProperties) problems.push(`${where}.${k} is not a field of this operation`);
    }
    return problems;
  }
  return [];
}

/** The problem with one request, or null when it is a real operation used correctly. */
export function checkOperation(method: string, url: string, bodyText?: string): string | null {
  const u = new URL(url, 'https://api.github.com');
  const found = findOperation(method.toUpperCase(), u.pathname);
  const label = `${method.toUpperCase()} ${u.pathname}`;
  if (!found) return `${label} is not an operation of GitHub's REST API (api.github.com description)`;
  const { op, values } = found;
  const problems: string[] = [];
  for (const p of op.params.filter((p) => p.in === 'path')) {
    const v = values[p.name];
    const schema = resolve(p.schema);
    const asValue = schema?.type === 'integer' && /^\d+$/.test(v) ? Number(v) : v;
    problems.push(...checkValue(p.schema, asValue, `path parameter ${p.name}`));
  }
  const declared = new Set(op.params.filter((p) => p.in === 'query').map((p) => p.name));
  for (const key of u.searchParams.keys()) {
    if (!declared.has(key)) problems.push(`query parameter ${key} is not declared`);
  }
  if (bodyText && bodyText.length > 0) {
    let body: unknown;
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
  return problems.length ? `${label} (${op.method} ${op.template}): ${problems.join('; ')}` : null;
}

let problems: string[] = [];
let calls: string[] = [];

/** `nock('https://api.github.com')` whose matched requests are checked against the description and counted. */
export function gitHubApi(options?: nock.Options): nock.Scope {
  const scope = nock('https://api.github.com', options);
  scope.on('request', (req: Request, _interceptor: unknown, body: string) => {
    const problem = checkOperation(req.method, req.url, body);
    if (problem) problems.push(problem);
    const u = new URL(req.url);
    const found = findOperation(req.method.toUpperCase(), u.pathname);
    calls.push(found ? `${found.op.method} ${found.op.template}` : `${req.method} ${u.pathname}`);
  });
  return scope;
}

/** Throws one error listing every request made through `gitHubApi()` scopes that is not a real operation. */
export function expectRealGitHubCalls(): void {
  const found = problems;
  problems = [];
  if (found.length) throw new Error(`Mocked GitHub requests that GitHub's REST description does not allow:\n- ${found.join('\n- ')}`);
}

/** Requests answered by `gitHubApi()` scopes since the last reset, as "METHOD /template". */
export function recordedCalls(): string[] {
  return [...calls];
}

export function resetRecordedCalls(): void {
  calls = [];
  problems = [];
}
