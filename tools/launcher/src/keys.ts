import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@sre/auth/keys';

/**
 * The development signing key for access tokens: generated on first run and kept in the data
 * folder (git-ignored), so tokens stay valid across restarts. Never used outside `npm start`.
 */
export function ensureDevSigningKey(dir: string): { privateKeyPem: string; file: string; created: boolean } {
  const file = join(dir, 'jwt-ed25519-private.pem');
  if (existsSync(file)) return { privateKeyPem: readFileSync(file, 'utf8'), file, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateSigningKeyPair();
  writeFileSync(file, pair.privateKeyPem, { mode: 0o600 });
  return { privateKeyPem: pair.privateKeyPem, file, created: true };
}
