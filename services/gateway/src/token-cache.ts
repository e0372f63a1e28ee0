import type { AccessTokenClaims } from '@sre/platform';

/**
 * Verified access tokens, remembered until they expire so a busy client costs one signature check
 * per token rather than one per request. Bounded: the oldest entry goes when full (a Map keeps
 * insertion order). Only successes are cached, so a bad token is rechecked (and rejected) each time.
 */
export class TokenCache {
  readonly #entries = new Map<string, AccessTokenClaims>();
  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(token: string): AccessTokenClaims | undefined {
    const claims = this.#entries.get(token);
    if (!claims) return undefined;
    if (claims.exp * 1000 <= this.now()) {
      this.#entries.delete(token);
      return undefined;
    }
    return claims;
  }

  set(token: string, claims: AccessTokenClaims): void {
    if (this.maxEntries === 0) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, claims);
  }
}
