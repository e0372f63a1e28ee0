import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * Ed25519 signing keys for access tokens. The private key comes from config (a Kubernetes Secret in
 * production) as PKCS#8 PEM; the public keys (current plus any previous/upcoming ones) are
 * published at /.well-known/jwks.json so other services verify tokens without the private key.
 */

export interface SigningKeyPair {
  /** PKCS#8 PEM: the value of JWT_PRIVATE_KEY. */
  readonly privateKeyPem: string;
  /** SPKI PEM: what goes into JWT_PREVIOUS_PUBLIC_KEYS during a rotation. */
  readonly publicKeyPem: string;
  /** RFC 7638 thumbprint of the public JWK: the `kid` tokens signed with this key carry. */
  readonly kid: string;
}

export interface PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** A fresh Ed25519 key pair as PEM (used by the CLI, the local launcher and the k8s secret script). */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKey = createPublicKey(privateKey);
  return { privateKeyPem, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), kid: publicJwk(publicKey).kid };
}

/** Env files and some secret stores carry PEMs with literal "\n"; accept both forms. */
export function normalisePem(value: string): string {
  return value.replace(/\\n/g, '\n').trim();
}

/** The Ed25519 private key of a PKCS#8 PEM, or an Error whose message never contains key material. */
export function parsePrivateKey(pem: string): KeyObject | Error {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: normalisePem(pem), format: 'pem' });
  } catch {
    return new Error('is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') return new Error(`must be an Ed25519 key (found ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

const PUBLIC_PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** Every SPKI public key in `value` (zero or more concatenated PEM blocks), or an Error. */
export function parsePublicKeys(value: string): KeyObject[] | Error {
  const normalised = normalisePem(value);
  const blocks = normalised.match(PUBLIC_PEM_BLOCK) ?? [];
  if (blocks.length === 0) return new Error('must contain one or more PEM public keys (-----BEGIN PUBLIC KEY-----)');
  if (normalised.replace(PUBLIC_PEM_BLOCK, '').trim() !== '') return new Error('contains text outside PEM public key blocks');
  const keys: KeyObject[] = [];
  for (const [index, block] of blocks.entries()) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: block, format: 'pem' });
    } catch {
      return new Error(`key ${index + 1} is not a valid PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') return new Error(`key ${index + 1} must be an Ed25519 key`);
    keys.push(key);
  }
  return keys;
}

/** The public JWK of an Ed25519 key with its RFC 7638 thumbprint as kid. */
export function publicJwk(key: KeyObject): PublicJwk {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x: jwk.x });
  const kid = createHash('sha256').update(canonical).digest('base64url');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig' };
}

/** The SPKI PEM of a private key's public half (for moving the current key into the previous list). */
export function publicKeyPemFromPrivate(privateKeyPem: string): string {
  const key = parsePrivateKey(privateKeyPem);
  if (key instanceof Error) throw new Error(`private key ${key.message}`);
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

export interface SigningKeys {
  readonly privateKey: KeyObject;
  readonly kid: string;
  /** Current key first, then the extra published keys (duplicates removed). */
  readonly jwks: { keys: PublicJwk[] };
}

export function loadSigningKeys(privateKeyPem: string, extraPublicKeysPem: string | undefined): SigningKeys {
  const privateKey = parsePrivateKey(privateKeyPem);
  if (privateKey instanceof Error) throw new Error(`JWT_PRIVATE_KEY ${privateKey.message}`);
  const current = publicJwk(privateKey);
  const keys: PublicJwk[] = [current];
  if (extraPublicKeysPem) {
    const extra = parsePublicKeys(extraPublicKeysPem);
    if (extra instanceof Error) throw new Error(`JWT_PREVIOUS_PUBLIC_KEYS ${extra.message}`);
    for (const key of extra) {
      const jwk = publicJwk(key);
      if (!keys.some((k) => k.kid === jwk.kid)) keys.push(jwk);
    }
  }
  return { privateKey, kid: current.kid, jwks: { keys } };
}
