import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canBind, GATEWAY_SOURCE_ADDRESS, proxyTrust, relaySourceAddress, TLS_PROXY_ADDRESS } from '../src/loopback.js';

/** Who each service believes under `npm start` (issue 15 item 4); the end-to-end check is in platform.test.ts. */

describe('launcher: proxy trust on one machine', () => {
  it('without HTTPS the gateway believes nobody; Auth believes only the gateway’s own source address', () => {
    const t = proxyTrust(false, { tlsProxy: true, gatewaySource: true });
    assert.equal(t.gatewayTrustProxy, 'false');
    assert.equal(t.tlsProxyAddress, undefined);
    assert.equal(t.gatewaySourceAddress, GATEWAY_SOURCE_ADDRESS);
    assert.equal(t.upstreamTrustProxy, GATEWAY_SOURCE_ADDRESS);
    assert.deepEqual(t.warnings, []);
  });

  it('with HTTPS the gateway believes only the TLS proxy, which connects from its own address', () => {
    const t = proxyTrust(true, { tlsProxy: true, gatewaySource: true });
    assert.equal(t.gatewayTrustProxy, TLS_PROXY_ADDRESS);
    assert.equal(t.tlsProxyAddress, TLS_PROXY_ADDRESS);
  });

  it('with HTTPS Auth and Images believe the gateway and the TLS proxy: the gateway forwards "client, TLS proxy"', () => {
    const t = proxyTrust(true, { tlsProxy: true, gatewaySource: true });
    assert.equal(t.upstreamTrustProxy, `${GATEWAY_SOURCE_ADDRESS},${TLS_PROXY_ADDRESS}`);
  });

  it('where the loopback aliases do not exist, it falls back to 127.0.0.1 and says what that gives up', () => {
    const t = proxyTrust(true, { tlsProxy: false, gatewaySource: false });
    assert.equal(t.gatewayTrustProxy, '127.0.0.1');
    assert.equal(t.upstreamTrustProxy, '127.0.0.1');
    assert.equal(t.gatewaySourceAddress, undefined);
    assert.equal(t.warnings.length, 2);
    assert.match(t.warnings.join('\n'), /every local client/);
  });

  it('the round-robin keeps loopback source addresses only', () => {
    assert.equal(relaySourceAddress('127.0.0.3'), '127.0.0.3');
    assert.equal(relaySourceAddress('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(relaySourceAddress('192.168.1.20'), undefined);
    assert.equal(relaySourceAddress('::1'), undefined);
    assert.equal(relaySourceAddress(undefined), undefined);
  });

  it('probes whether an address can be bound', async () => {
    assert.equal(await canBind('127.0.0.1'), true);
    assert.equal(await canBind('192.0.2.1'), false, 'TEST-NET-1 is on no interface of a test machine');
  });
});
