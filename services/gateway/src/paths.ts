/**
 * Canonical request paths. Routing and rate limiting look at the raw path, while an upstream (and
 * its router) may read the same bytes differently: `POST /api/auth//register` matched the
 * catch-all proxy route with the loose global limit, yet Auth served it as `/register` (issue 15,
 * item 1). Rather than normalise (and then have to prove that we and every upstream normalise the
 * same way), the gateway refuses, before proxying, any path that is not already in canonical form, so
 * a proxied path is limited under the route the upstream will serve it as.
 *
 * Canonical here means (RFC 3986 §6.2.2): no empty segment (`//`), no dot segment (`.`, `..`), no
 * percent-encoded unreserved character (`%72egister`, `%2e`) nor encoded slash or backslash
 * (`%2F`, `%5C`), no raw backslash, well-formed escapes, and for `/api/<upstream>/*` no trailing slash and no
 * `;` (which Fastify's router treats like `?`).
 */

/** Percent-encodings a canonical path never contains: unreserved characters (§2.3), `/` and `\`. */
const FORBIDDEN_ESCAPE = /%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2[def]|5f|7e|5c)/i;
const MALFORMED_ESCAPE = /%(?![0-9a-f]{2})/i;

/** Why `path` (no query) is not canonical, or undefined when it is. */
export function nonCanonicalPathReason(path: string): string | undefined {
  if (path.includes('\\')) return 'a backslash';
  if (path.includes('//')) return 'an empty segment (//)';
  if (/\/\.\.?(?:\/|$)/.test(path)) return 'a dot segment (/./ or /../)';
  if (path.includes('%')) {
    if (MALFORMED_ESCAPE.test(path)) return 'a malformed percent-escape';
    if (FORBIDDEN_ESCAPE.test(path)) return 'a percent-encoded character that must be sent as is';
  }
  if (path.startsWith('/api/')) {
    // `/api/images/` is the upstream's root, as `/api/images` is; deeper, `/register/` is not `/register`.
    if (path.endsWith('/') && path.split('/').length > 4) return 'a trailing slash';
    // find-my-way (Fastify's router, here and upstream) ends the path at ';' as at '?'.
    if (path.includes(';')) return 'a semicolon';
  }
  return undefined;
}

/** The path part of a request target (before `?`). */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
