/**
 * Prints a new Ed25519 signing key for JWT_PRIVATE_KEY (PKCS#8 PEM) on stdout.
 *
 *   node --conditions=development --import tsx services/auth/src/cli/generate-key.ts            # private PEM
 *   node ... generate-key.ts --json          # {"privateKeyPem","publicKeyPem","kid"}
 *   node ... generate-key.ts --public < key.pem   # the public PEM of a private key (for key rotation)
 */
import { readFileSync } from 'node:fs';
import { generateSigningKeyPair, publicKeyPemFromPrivate } from '../keys.js';

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((a) => !['--json', '--public', '--help'].includes(a));
if (args.has('--help') || unknown.length > 0) {
  process.stderr.write('usage: generate-key.ts [--json | --public < private.pem]\n');
  process.exit(unknown.length > 0 ? 2 : 0);
}

if (args.has('--public')) {
  try {
    process.stdout.write(publicKeyPemFromPrivate(readFileSync(0, 'utf8')));
  } catch (err) {
    process.stderr.write(`generate-key: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
} else {
  const pair = generateSigningKeyPair();
  process.stdout.write(args.has('--json') ? `${JSON.stringify(pair)}\n` : pair.privateKeyPem);
}
