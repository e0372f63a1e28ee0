import { createServer } from 'node:net';

/**
 * Source addresses that tell the local proxies apart from clients. Every local client connects from
 * 127.0.0.1, so a service that believed X-Forwarded-For from 127.0.0.1 would let any of them choose the
 * address its rate limits and login throttle count (issue 15 item 4). Linux routes all of 127.0.0.0/8 to
 * loopback, so the TLS proxy connects to the gateway from 127.0.0.2 and the gateway to its upstreams from
 * 127.0.0.3, and each service believes only that address. Where those addresses do not exist (macOS
 * without an alias), the launcher falls back to 127.0.0.1 and says what that means.
 */
export const TLS_PROXY_ADDRESS = '127.0.0.2';
export const GATEWAY_SOURCE_ADDRESS = '127.0.0.3';

/** Whether this machine can use `address` as a local (source) address. */
export async function canBind(address: string): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}

export interface ProxyTrust {
  /** The gateway's TRUST_PROXY: the TLS proxy's address when HTTPS is on, nobody otherwise. */
  gatewayTrustProxy: string;
  /** Where the TLS proxy connects from, when it can have its own address. */
  tlsProxyAddress?: string;
  /** The gateway's UPSTREAM_LOCAL_ADDRESS, when it can have its own address. */
  gatewaySourceAddress?: string;
  /**
   * Auth's and Images' TRUST_PROXY: the gateway's source address, and the TLS proxy's when HTTPS is on
   * (the gateway forwards the chain it believed, "client, TLS proxy", so an upstream believing only the
   * gateway would take the TLS proxy for the client).
   */
  upstreamTrustProxy: string;
  /** What the fallback gives up, to print once. */
  warnings: string[];
}

/** Who each service believes, given whether HTTPS is on and which loopback addresses exist. */
export function proxyTrust(https: boolean, usable: { tlsProxy: boolean; gatewaySource: boolean }): ProxyTrust {
  const warnings: string[] = [];
  let gatewayTrustProxy = 'false';
  let tlsProxyAddress: string | undefined;
  if (https && usable.tlsProxy) {
    gatewayTrustProxy = TLS_PROXY_ADDRESS;
    tlsProxyAddress = TLS_PROXY_ADDRESS;
  } else if (https) {
    gatewayTrustProxy = '127.0.0.1';
    warnings.push(
      `${TLS_PROXY_ADDRESS} is not a loopback address here: the gateway believes X-Forwarded-For from every local client (HTTPS proxy and clients share 127.0.0.1)`,
    );
  }
  const gatewayTrusted = https ? [gatewayTrustProxy] : [];
  if (usable.gatewaySource)
    return {
      gatewayTrustProxy,
      ...(tlsProxyAddress ? { tlsProxyAddress } : {}),
      gatewaySourceAddress: GATEWAY_SOURCE_ADDRESS,
      upstreamTrustProxy: [GATEWAY_SOURCE_ADDRESS, ...gatewayTrusted].join(','),
      warnings,
    };
  warnings.push(`${GATEWAY_SOURCE_ADDRESS} is not a loopback address here: Auth believes X-Forwarded-For from every local client that calls it directly`);
  return {
    gatewayTrustProxy,
    ...(tlsProxyAddress ? { tlsProxyAddress } : {}),
    upstreamTrustProxy: [...new Set(['127.0.0.1', ...gatewayTrusted])].join(','),
    warnings,
  };
}

/** The source address the balancer keeps when it relays a connection: a loopback client's own address. */
export function relaySourceAddress(clientAddress: string | undefined): string | undefined {
  if (!clientAddress) return undefined;
  const v4 = clientAddress.startsWith('::ffff:') ? clientAddress.slice(7) : clientAddress;
  return /^127\.\d+\.\d+\.\d+$/.test(v4) ? v4 : undefined;
}
