import { dictionary } from '@zxcvbn-ts/language-common';
import type { AppError } from '@sre/platform';
import { authErrors } from './errors.js';
import { normalisePassword, passwordLength } from './passwords.js';

/** NIST SP 800-63B §5.1.1.2: at least 8, and we accept up to 128; no composition rules. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * The ~49,000 most common passwords of public breach corpora, ranked, as zxcvbn-ts ships them
 * (@zxcvbn-ts/language-common, MIT, bundled in node_modules: nothing is fetched at run time).
 * ASVS 4.0 §2.1.7 asks for at least the top 1,000 or 10,000 that meet the length policy.
 * The list is lower-case, so the candidate is compared lower-cased: `Password1` is as guessable as
 * `password1` to any cracking rule set.
 */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common']);

export function isCommonPassword(password: string): boolean {
  const candidate = normalisePassword(password).toLowerCase();
  // Padding with spaces is the first trick a rule set tries: `password  ` is `password`.
  return COMMON_PASSWORDS.has(candidate) || COMMON_PASSWORDS.has(candidate.trim());
}

/** The length rule alone (login refuses impossible lengths before any work with it). */
export function violatesLength(password: string): boolean {
  const length = passwordLength(password);
  return length < PASSWORD_MIN || length > PASSWORD_MAX;
}

/**
 * The registration policy: length, then not only whitespace, then not a common password.
 * Returns the catalogued error to answer with, or undefined when the password is acceptable.
 */
export function passwordPolicyError(password: string): AppError | undefined {
  if (violatesLength(password)) return authErrors.AUTH_PASSWORD_POLICY();
  if (normalisePassword(password).trim() === '') return authErrors.AUTH_PASSWORD_BLANK();
  if (isCommonPassword(password)) return authErrors.AUTH_PASSWORD_COMMON();
  return undefined;
}
