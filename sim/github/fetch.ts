// The faked GitHub as an in-process `fetch`, for Octokit (`request: { fetch }`) and anything else
// that calls fetch: no sockets, no nock, a few microseconds of overhead per request. It follows
// redirects as fetch does (zipball and artifact downloads), fails a request with a timeout fault
// the way fetch fails, counts requests by operation, and checks requests and answers against
// GitHub's REST description: every one, or a sample (1 in `checkEvery`), or none.
import { checkOperation, checkResponse, findOperation } from './openapi.js';
import type { FakeGitHub } from './fake.js';

export interface FetchOptions {
  /** check 1 request in this many against the description (1: all, 0: none) */
  checkEvery?: number;
  /** what a check found (default: collected in `problems`) */
  onProblem?(problem: string): void;
}

export interface FakeFetch {
  fetch: typeof fetch;
  /** api.github.com requests by "METHOD /template" (token requests excluded; GET /user, made with a volunteer's own token, too) */
  calls: Map<string, number>;
  /** api.github.com requests answered 304 (free against the rate limit) */
  notModified: number;
  problems: string[];
  total(): number;
}

export function fakeFetch(gh: FakeGitHub, opts: FetchOptions = {}): FakeFetch {
  const every = opts.checkEvery ?? 1;
  const state: FakeFetch = {
    fetch: undefined as unknown as typeof fetch,
    calls: new Map(),
    notModified: 0,
    problems: [],
    total: () => [...state.calls.values()].reduce((a, b) => a + b, 0),
  };
  const problem = opts.onProblem ?? ((p: string) => state.problems.push(p));
  let n = 0;
  state.fetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => (headers[k] = v));
    const body = typeof init?.body === 'string' ? init.body : init?.body ? await new Response(init.body as BodyInit).text() : undefined;
    for (let hops = 0; hops < 5; hops++) {
      const api = url.startsWith('https://api.github.com/');
      const res = gh.handle({ method, url, headers, body });
      if (res.timeout) throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }) });
      if (api && !url.includes('/access_tokens') && !/^https:\/\/api\.github\.com\/user(\?|$)/.test(url)) {
        const u = new URL(url);
        const op = findOperation(method, u.pathname);
        const key = op ? `${op.op.method} ${op.op.template}` : `${method} ${u.pathname}`;
        state.calls.set(key, (state.calls.get(key) ?? 0) + 1);
        if (res.status === 304) state.notModified++;
        if (every > 0 && n++ % every === 0) {
          const p = checkOperation(method, url, body) ?? checkResponse(method, url, res.status, res.body, res.headers);
          if (p) problem(p);
        }
      }
      if ((res.status === 301 || res.status === 302) && res.headers.location && init?.redirect !== 'manual') {
        url = res.headers.location;
        continue;
      }
      const nobody = res.status === 204 || res.status === 304 || res.body === '' || res.body === undefined;
      const payload = nobody ? null : res.body instanceof Uint8Array ? res.body : typeof res.body === 'string' ? res.body : JSON.stringify(res.body);
      const type = res.body instanceof Uint8Array ? 'application/zip' : typeof res.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
      const response = new Response(payload as BodyInit | null, { status: res.status, headers: { 'content-type': type, ...res.headers } });
      // fetch's answer names the URL it came from (Octokit's pagination reads it)
      Object.defineProperty(response, 'url', { value: url });
      return response;
    }
    throw new TypeError(`fetch failed: too many redirects from ${url}`);
  }) as typeof fetch;
  return state;
}
