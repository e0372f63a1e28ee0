import type { components } from './api-types.generated.js';
import type { ApiErrorInfo } from './messages.js';

/**
 * The browser's client for the gateway API. Access tokens live in memory only; the refresh token is
 * kept in sessionStorage (this tab, until it closes) so a reload keeps the session. Refresh tokens
 * rotate and reuse revokes the whole family, so concurrent callers share one refresh.
 */

// The API's shapes come from the gateway's OpenAPI document (npm run openapi), never written by hand.
type Schemas = components['schemas'];
export type ImageMeta = Schemas['Image'];
export type ImagePage = Schemas['ImagePage'];
type TokenPair = Schemas['TokenPair'];

interface StoredSession {
  refreshToken: string;
  email: string;
}

export class ApiError extends Error {
  readonly info: ApiErrorInfo;
  constructor(info: ApiErrorInfo) {
    super(info.message ?? info.code);
    this.name = 'ApiError';
    this.info = info;
  }
}

const SESSION_KEY = 'sre.session';
/** Refresh this long before the access token expires, so requests never race its expiry. */
const REFRESH_MARGIN_MS = 30_000;

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : undefined;
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message: string | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    message = body.error?.message;
  } catch {
    // not JSON (a proxy's page): keep the status
  }
  const ra = retryAfter(res.headers.get('retry-after'));
  return new ApiError({ status: res.status, code, ...(message ? { message } : {}), ...(ra === undefined ? {} : { retryAfterSec: ra }) });
}

const networkError = () => new ApiError({ status: 0, code: 'NETWORK_ERROR' });

export class ApiClient {
  #accessToken: string | undefined;
  #accessExpiresAt = 0;
  #session: StoredSession | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(
    private readonly storage: Storage,
    /** Called when the session cannot be renewed (refresh token expired, revoked or reused). */
    private readonly onSessionEnded: () => void,
  ) {
    try {
      const raw = storage.getItem(SESSION_KEY);
      if (raw) this.#session = JSON.parse(raw) as StoredSession;
    } catch {
      storage.removeItem(SESSION_KEY);
    }
  }

  get email(): string | undefined {
    return this.#session?.email;
  }

  get signedIn(): boolean {
    return this.#session !== undefined;
  }

  async register(email: string, password: string): Promise<void> {
    await this.#json('/api/auth/register', { method: 'POST', body: { email, password } });
  }

  async login(email: string, password: string): Promise<void> {
    const pair = await this.#json<TokenPair>('/api/auth/login', { method: 'POST', body: { email, password } });
    this.#setTokens(pair, email.trim().toLowerCase());
  }

  async logout(): Promise<void> {
    const refreshToken = this.#session?.refreshToken;
    this.#clear();
    if (refreshToken) {
      // Best effort: the session is gone locally either way.
      await this.#json('/api/auth/logout', { method: 'POST', body: { refreshToken } }).catch(() => undefined);
    }
  }

  async listImages(cursor?: string, limit = 12): Promise<ImagePage> {
    const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
    const res = await this.#authorized((token) => fetch(`/api/images?${query.toString()}`, { headers: { authorization: `Bearer ${token}` } }));
    return (await res.json()) as ImagePage;
  }

  async deleteImage(id: string): Promise<void> {
    await this.#authorized((token) => fetch(`/api/images/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }));
  }

  /** An image's bytes: <img> cannot send Authorization headers, so the page shows blob: URLs. */
  async imageBlob(id: string, variant: 'thumbnail' | 'content'): Promise<Blob> {
    const res = await this.#authorized((token) => fetch(`/api/images/${encodeURIComponent(id)}/${variant}`, { headers: { authorization: `Bearer ${token}` } }));
    return res.blob();
  }

  /** Uploads with XMLHttpRequest, the one browser API that reports upload progress. */
  async upload(file: File, onProgress: (fraction: number) => void): Promise<ImageMeta> {
    const attempt = async (token: string) =>
      new Promise<{ status: number; body: string; retryAfter: string | null }>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/api/images');
        xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.upload.onprogress = (event) => {
          if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
        };
        xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText, retryAfter: xhr.getResponseHeader('retry-after') });
        xhr.onerror = () => reject(networkError());
        xhr.onabort = () => reject(networkError());
        const form = new FormData();
        form.append('file', file, file.name);
        xhr.send(form);
      });
    const res = await this.#authorized(async (token) => {
      const r = await attempt(token);
      return new Response(r.body || null, {
        status: r.status,
        headers: r.retryAfter ? { 'retry-after': r.retryAfter, 'content-type': 'application/json' } : { 'content-type': 'application/json' },
      });
    });
    onProgress(1);
    return (await res.json()) as ImageMeta;
  }

  // --- internals ---

  #setTokens(pair: TokenPair, email: string): void {
    this.#accessToken = pair.accessToken;
    this.#accessExpiresAt = Date.now() + pair.expiresIn * 1000;
    this.#session = { refreshToken: pair.refreshToken, email };
    this.storage.setItem(SESSION_KEY, JSON.stringify(this.#session));
  }

  #clear(): void {
    this.#accessToken = undefined;
    this.#accessExpiresAt = 0;
    this.#session = undefined;
    this.storage.removeItem(SESSION_KEY);
  }

  /** One refresh at a time: two concurrent uses of a rotating refresh token would revoke the session. */
  #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      const session = this.#session;
      if (!session) throw new ApiError({ status: 401, code: 'AUTH_REFRESH_INVALID' });
      try {
        const pair = await this.#json<TokenPair>('/api/auth/refresh', { method: 'POST', body: { refreshToken: session.refreshToken } });
        this.#setTokens(pair, session.email);
      } catch (err) {
        if (err instanceof ApiError && err.info.status === 401) {
          this.#clear();
          this.onSessionEnded();
        }
        throw err;
      }
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #validAccessToken(): Promise<string> {
    if (!this.#accessToken || Date.now() > this.#accessExpiresAt - REFRESH_MARGIN_MS) await this.#refresh();
    if (!this.#accessToken) throw new ApiError({ status: 401, code: 'AUTH_REFRESH_INVALID' });
    return this.#accessToken;
  }

  /** Sends with a fresh access token; on 401 renews once and retries. Non-2xx becomes ApiError. */
  async #authorized(send: (token: string) => Promise<Response>): Promise<Response> {
    let res: Response;
    try {
      res = await send(await this.#validAccessToken());
      if (res.status === 401 && this.#session) {
        this.#accessToken = undefined;
        res = await send(await this.#validAccessToken());
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw networkError();
    }
    if (res.status === 401) {
      this.#clear();
      this.onSessionEnded();
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  async #json<T = unknown>(url: string, options: { method: string; body: unknown }): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, { method: options.method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) });
    } catch {
      throw networkError();
    }
    if (!res.ok) throw await errorFromResponse(res);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }
}
