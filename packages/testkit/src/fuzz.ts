/**
 * Hostile-but-bounded HTTP requests for the "no 5xx from client input" tests (issue 15, item 2):
 * a fixed seed, so a failure names a request that reproduces; paths, methods, headers and bodies
 * an attacker or a broken client would send. Used with `app.inject` (no sockets) or a real port.
 */

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** mulberry32: tiny, seedable, good enough to pick cases (not for anything secret). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL'];

/** Path segments that have broken routers, static servers and decoders before. */
const SEGMENTS = [
  '',
  '.',
  '..',
  '%2e%2e',
  '%2E%2e%2f',
  '..%2f..%2f',
  '...',
  '%',
  '%%',
  '%zz',
  '%E0%A4%A',
  '%C0%AE',
  '%00',
  'a%00b',
  '%ff%fe',
  '%uD800',
  '\u00e9',
  '%C3%A9',
  '\u{1F600}',
  '%F0%9F%98%80',
  '\u202e',
  '\uff41lice',
  '\u0430lice',
  'CON',
  'aux.txt',
  '~',
  '.git',
  '.env',
  'index.html',
  'assets',
  'favicon.svg',
  ':id',
  '*',
  ';',
  'a;b=c',
  '%3B',
  '%2F',
  '\\',
  '%5C..%5C',
  'x'.repeat(201),
  'n'.repeat(256),
  'y'.repeat(1000),
  'z'.repeat(5000),
];

/** Route prefixes of our services, so fuzzed requests reach real routes and not only the 404 handler. */
const DEFAULT_PREFIXES = ['', '/', '/api', '/api/auth', '/api/images', '/register', '/login', '/me', '/images', '/.well-known'];

const QUERIES = [
  '',
  '?',
  '?a=1',
  '?limit=-1',
  '?limit=99999999999999999999',
  '?cursor=%zz',
  '?cursor=' + 'c'.repeat(3000),
  '?a[b]=1&a[c]=2',
  '?__proto__[x]=1',
  '?%00=%00',
  '#frag',
];

const HEADER_VALUES: Array<[string, string[]]> = [
  [
    'content-type',
    [
      'application/json',
      'application/json; charset=utf-16',
      'text/plain',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '*/*',
      'application/json\u0001',
      ';;;',
    ],
  ],
  ['accept', ['*/*', 'text/html', 'application/json;q=0', 'x/y;q=abc', '']],
  ['accept-encoding', ['gzip', 'br;q=1, *;q=0', 'identity;q=0', 'nonsense']],
  ['range', ['bytes=0-0', 'bytes=999999999-', 'bytes=-1', 'bytes=5-1', 'bytes=0-1,2-3,4-5', 'pages=1-2', 'bytes=']],
  ['if-none-match', ['*', '"abc"', 'W/"x"', 'garbage']],
  ['if-modified-since', ['yesterday', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Sat, 01 Jan 2500 00:00:00 GMT']],
  ['authorization', ['Bearer ', 'Bearer x.y.z', 'Bearer ' + 'a'.repeat(3000), 'Basic Zm9vOmJhcg==', 'bearer', 'Bearer eyJhbGciOiJub25lIn0.e30.']],
  ['x-request-id', ['abc', '', '\u0001', 'x'.repeat(300)]],
  ['traceparent', ['00-00000000000000000000000000000000-0000000000000000-00', 'garbage', 'ff-' + 'f'.repeat(32) + '-' + 'f'.repeat(16) + '-ff']],
  ['x-forwarded-for', ['1.2.3.4', 'not-an-ip', '::1, 10.0.0.1', '']],
  ['origin', ['null', 'https://evil.example', '']],
  ['transfer-encoding', ['identity']],
  ['expect', ['100-continue', 'nonsense']],
  ['x-chaos-token', ['x']],
];

const BODIES: Array<string | Buffer> = [
  '',
  '{',
  '{}',
  'null',
  '[]',
  '"x"',
  '{"email":1,"password":[]}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"email":"a@b.co","password":"' + 'p'.repeat(5000) + '"}',
  Buffer.from([0xff, 0xfe, 0x00, 0x01]),
  '--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--x--\r\n',
];

export interface FuzzOptions {
  seed: number;
  count: number;
  prefixes?: readonly string[];
  /** Extra header sets picked at random (e.g. a valid bearer token), so guarded routes are reached. */
  extraHeaders?: ReadonlyArray<Record<string, string>>;
  /** Header names never generated (a known bug tested on its own). */
  excludeHeaders?: readonly string[];
}

export function fuzzRequests(options: FuzzOptions): FuzzRequest[] {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const prefixes = options.prefixes ?? DEFAULT_PREFIXES;
  const out: FuzzRequest[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const segments = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(SEGMENTS));
    const joiner = random() < 0.15 ? '//' : '/';
    const url = `${pick(prefixes)}${joiner}${segments.join(pick(['/', '/', '//', '/./']))}${pick(QUERIES)}`;
    const headers: Record<string, string> = {};
    const headerCount = Math.floor(random() * 4);
    for (let h = 0; h < headerCount; h += 1) {
      const [name, values] = pick(HEADER_VALUES);
      if (!options.excludeHeaders?.includes(name)) headers[name] = pick(values);
    }
    if (options.extraHeaders && random() < 0.5) Object.assign(headers, pick(options.extraHeaders));
    const method = pick(METHODS);
    const withBody = method !== 'GET' && method !== 'HEAD' && random() < 0.7;
    out.push({ method, url: url.startsWith('/') ? url : `/${url}`, headers, ...(withBody ? { payload: pick(BODIES) } : {}) });
  }
  return out;
}

/** A short, reproducible description of a request for assertion messages. */
export function describeRequest(request: FuzzRequest): string {
  const url = request.url.length > 120 ? `${request.url.slice(0, 120)}…(${request.url.length})` : request.url;
  return `${request.method} ${JSON.stringify(url)} ${JSON.stringify(request.headers).slice(0, 200)}`;
}

export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends one request byte for byte over a fresh loopback socket (no client library normalises the
 * URL or refuses a header first), and reads the answer until the server closes. Bounded in time.
 */
export async function sendRaw(port: number, request: FuzzRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const { connect } = await import('node:net');
  const body = request.payload === undefined ? undefined : Buffer.isBuffer(request.payload) ? request.payload : Buffer.from(request.payload);
  const lines = [`${request.method} ${request.url} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  if (body) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(body ? Buffer.concat([head, body]) : head);
    });
    const finish = () => {
      clearTimeout(timer);
      const text = skipInterim(Buffer.concat(chunks).toString('utf8'));
      const split = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      socket.destroy();
      resolve({ status, head: split < 0 ? text : text.slice(0, split), body: split < 0 ? '' : text.slice(split + 4) });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Done at the end of the first response, even if the server keeps the connection open.
      if (responseComplete(Buffer.concat(chunks), request.method)) finish();
    });
    // A server that answers early and resets the rest is still an answer.
    socket.on('error', () => undefined);
    socket.on('close', finish);
  });
}

/** True once `bytes` hold one whole response (interim 1xx skipped): by Content-Length or chunked end. */
function responseComplete(bytes: Buffer, method: string): boolean {
  const text = skipInterim(bytes.toString('latin1'));
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return false;
  const head = text.slice(0, split).toLowerCase();
  const body = text.slice(split + 4);
  const status = Number(/^http\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  if (method === 'HEAD' || status === 204 || status === 304) return true;
  const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1];
  if (length !== undefined) return Buffer.byteLength(body, 'latin1') >= Number(length);
  if (/\r\ntransfer-encoding: *chunked/.test(head)) return body.endsWith('0\r\n\r\n');
  return false;
}

/** Drops interim responses (`100 Continue`) in front of the final one. */
function skipInterim(text: string): string {
  let rest = text;
  while (/^HTTP\/1\.[01] 1\d\d /.test(rest)) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return '';
    rest = rest.slice(end + 4);
  }
  return rest;
}
