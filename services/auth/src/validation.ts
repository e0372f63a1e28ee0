/** Email normalisation: Unicode NFC, trimmed, lower-case; what is stored and compared. */
export function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim().toLowerCase();
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
