import type { OutgoingHttpHeaders } from 'node:http';
import helmet from 'helmet';

/** CSP: our own assets only. */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    // blob: is the app's own image data (fetched with the bearer token, shown through object URLs).
    'img-src': ["'self'", 'blob:'],
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
  },
};

/**
 * The security headers helmet sends, computed once. Our policy has no per-request part (no nonces),
 * yet helmet re-reads its directives on every request (a profile under load showed it, issue 11);
 * so helmet runs once here against a recording response, and every request gets the recorded
 * headers in one write. helmet stays the source of truth for which headers and values to send.
 */
export function staticSecurityHeaders(): Readonly<Record<string, string>> {
  const headers: OutgoingHttpHeaders = {};
  const recorder = {
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  let failure: unknown;
  helmet({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  })({} as never, recorder as never, (err?: unknown) => (failure = err));
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return Object.freeze(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
}
