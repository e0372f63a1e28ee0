/**
 * Email normalisation: Unicode NFKC, trimmed, lower-case; what is stored and compared.
 *
 * NFKC (not NFC) folds compatibility forms onto their plain letters, so `ａlice@…` (fullwidth a)
 * is the same account as `alice@…` instead of a look-alike second one (issue 15, item 7; UTS 39 §5
 * uses NFKC for the same reason). Lower-casing the local part too is a product choice: RFC 5321 lets
 * a mail server treat `Alice` and `alice` as different mailboxes, but no mainstream provider does,
 * and two accounts differing only by case are a phishing tool, not a feature.
 */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

// Internationalised addresses (RFC 6531) are allowed; whitespace, control/format characters and
// the specials that only appear in quoted or display forms are not. Domain labels have no dots.
const LOCAL_CHAR = String.raw`[^\s@\p{C}<>()\[\]\\,;:"]`;
const LABEL_CHAR = String.raw`[^\s@\p{C}<>()\[\]\\,;:".]`;
const EMAIL_PATTERN = new RegExp(String.raw`^${LOCAL_CHAR}{1,64}@(?:${LABEL_CHAR}+\.)+${LABEL_CHAR}{2,}$`, 'u');

/** Syntax check of a normalised email (RFC 5321 length limits: 64 local, 254 total). */
export function isValidEmail(email: string): boolean {
  return [...email].length <= 254 && EMAIL_PATTERN.test(email);
}

/** Scripts told apart; a letter of any other script counts as its own "Other" script. */
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Armenian',
  'Georgian',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Tamil',
  'Thai',
  'Hangul',
  'Han',
  'Hiragana',
  'Katakana',
  'Bopomofo',
] as const;
type Script = (typeof SCRIPTS)[number] | 'Other';
const SCRIPT_PATTERNS = SCRIPTS.map((name) => [name, new RegExp(String.raw`^\p{Script=${name}}$`, 'u')] as const);

/**
 * Script combinations a real name legitimately mixes: UTS 39 §5.2 "Highly Restrictive" (Japanese,
 * Chinese and Korean writing mix Han with their own scripts, and Latin with each of them).
 */
const ALLOWED_MIXES: readonly ReadonlySet<Script>[] = [
  new Set<Script>(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set<Script>(['Latin', 'Han', 'Bopomofo']),
  new Set<Script>(['Latin', 'Han', 'Hangul']),
];

function scriptOf(letter: string): Script {
  for (const [name, pattern] of SCRIPT_PATTERNS) if (pattern.test(letter)) return name;
  return 'Other';
}

/**
 * True when the part before `@` mixes letters of scripts that are not written together, such as
 * Latin and Cyrillic in `аlice` (Cyrillic а): the classic look-alike of another user's address.
 * Digits, punctuation and combining marks (Unicode scripts Common and Inherited) do not count.
 * Whole-script look-alikes (`аосе`, all Cyrillic) are not caught: that needs UTS 39's confusables
 * table, and such an address is a different, valid mailbox (services/auth/README.md).
 */
export function hasMixedScriptLocalPart(email: string): boolean {
  const local = email.slice(0, email.lastIndexOf('@'));
  const scripts = new Set<Script>();
  for (const char of local) if (/\p{L}/u.test(char)) scripts.add(scriptOf(char));
  if (scripts.size <= 1) return false;
  return !ALLOWED_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)));
}
