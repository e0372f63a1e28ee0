import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';

/**
 * HTTPS on one machine, the way the cluster does it: TLS ends in front of the gateway (the Ingress
 * there, this small proxy here), which then sees X-Forwarded-Proto: https and sends HSTS.
 */

/** A self-signed certificate for localhost, made once with openssl and kept in `dir`. */
export function ensureCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'localhost-cert.pem');
  const keyFile = join(dir, 'localhost-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '825',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    throw new Error(missing ? 'HTTPS needs openssl to make a certificate (apt-get install openssl)' : `openssl failed: ${(err as Error).message}`);
  }
  return { certFile, keyFile };
}

export async function startTlsProxy(options: {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  targetPort: number;
  localAddress?: string;
}): Promise<Server> {
  const server = createHttpsServer({ cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) }, (req, res) => {
    const headers = { ...req.headers };
    const clientIp = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${String(headers['x-forwarded-for'])}, ${clientIp}` : clientIp;
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = req.headers.host ?? `localhost:${options.port}`;
    // From its own address (loopback.ts): the gateway believes X-Forwarded-For only from there.
    const source = options.localAddress ? { localAddress: options.localAddress } : {};
    const upstream = httpRequest({ host: '127.0.0.1', port: options.targetPort, method: req.method, path: req.url, headers, ...source }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'GATEWAY_UPSTREAM_UNAVAILABLE', message: 'The gateway is not running.', requestId: '' } }));
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
