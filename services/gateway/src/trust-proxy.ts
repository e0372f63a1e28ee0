import { isIP } from 'node:net';
import { z } from '@sre/platform';

/**
 * Whose `X-Forwarded-*` headers the gateway believes (issue 15, item 4). The client address they
 * yield keys the rate limits and is forwarded to Auth for its login throttle, so believing a
 * client's own header lets it pick its limit bucket. Accepted values:
 * - unset or `false`: nobody; the TCP peer is the client (`npm start` without a proxy in front);
 * - a hop count `N`: the N nearest hops are proxies (an Ingress that only it can reach: NetworkPolicy);
 * - a comma list of addresses/CIDRs: only those peers are proxies.
 * `true` (believe every peer) is refused: it lets any client choose its own address.
 */
export type TrustProxy = false | number | string;

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

export function envTrustProxy() {
  return z
    .string()
    .optional()
    .transform((v, ctx): TrustProxy => {
      const value = (v ?? '').trim();
      if (value === '' || value === 'false') return false;
      if (value === 'true') {
        ctx.addIssue({
          code: 'custom',
          message: 'must not be "true" (any client could choose its address); list the proxies\' addresses/CIDRs or give a hop count',
        });
        return z.NEVER;
      }
      if (/^\d+$/.test(value)) return Number(value);
      const entries = value.split(',').map((e) => e.trim());
      if (entries.some((e) => !isAddressOrCidr(e))) {
        ctx.addIssue({ code: 'custom', message: 'must be false, a hop count, or a comma list of IP addresses/CIDRs' });
        return z.NEVER;
      }
      return entries.join(',');
    });
}
