import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

export interface Argon2Params {
  memoryKiB: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies against `storedHash`, or against a dummy hash of the same cost when there is none. */
  verify(storedHash: string | undefined, password: string): Promise<boolean>;
}

// `Algorithm` is a const enum in the binding's typings, which isolatedModules cannot inline.
const ARGON2ID = 2 as Algorithm;

/** NIST SP 800-63B §5.1.1.2: Unicode passwords are normalised (NFKC) before hashing. */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in code points (what a user counts), not UTF-16 units. */
export function passwordLength(password: string): number {
  return [...password].length;
}

/**
 * argon2id via @node-rs/argon2: the hash runs on libuv's thread pool, never on the event loop.
 * Unknown accounts are checked against a dummy hash with the same parameters, so a login for an
 * unknown email costs what a wrong password costs (no account enumeration by timing).
 */
export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options = { algorithm: ARGON2ID, memoryCost: params.memoryKiB, timeCost: params.timeCost, parallelism: params.parallelism };
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hash(randomBytes(32).toString('base64url'), options));
  return {
    hash: (password) => hash(normalisePassword(password), options),
    async verify(storedHash, password) {
      const target = storedHash ?? (await dummyHash());
      try {
        const ok = await verify(target, normalisePassword(password));
        return ok && storedHash !== undefined;
      } catch {
        return false;
      }
    },
  };
}
