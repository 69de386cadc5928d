import { ImgpipeError } from '@imgpipe/core';
import { COMMON_PASSWORDS } from './common-passwords.ts';

/** Shortest password accepted, in characters (code points), after NIST SP 800-63B's advice for single-factor use. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest: argon2 hashes any length, but a megabyte "password" is a cheap way to make the server work. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * The password policy: at least 12 and at most 256 characters; not the username (nor, for a username that is an
 * e-mail address, its part before the @), compared case-insensitively; not one of a short list of common passwords;
 * not a single character repeated. No composition rules (digits, symbols): they make passwords harder to remember,
 * not to guess. Throws AUTH_PASSWORD_WEAK with the rule it breaks.
 */
export function checkPassword(password: string, context: { username: string }): void {
  const length = [...password].length;
  const weak = (reason: string) => new ImgpipeError('AUTH_PASSWORD_WEAK', reason);
  if (length < MIN_PASSWORD_LENGTH)
    throw weak(`the password has ${length} characters; at least ${MIN_PASSWORD_LENGTH}`);
  if (length > MAX_PASSWORD_LENGTH) throw weak(`the password has ${length} characters; at most ${MAX_PASSWORD_LENGTH}`);
  const folded = password.normalize('NFKC').toLowerCase();
  const username = context.username.normalize('NFKC').toLowerCase();
  const local = username.includes('@') ? username.slice(0, username.lastIndexOf('@')) : username;
  if (folded === username || folded === local) throw weak('the password is the username');
  if (COMMON_PASSWORDS.has(folded)) throw weak('the password is on the list of common passwords');
  if (new Set(folded).size === 1) throw weak('the password is one character repeated');
}

/** Usernames: 1-254 characters of ASCII letters, digits and . _ @ + - (an e-mail address fits), stored NFKC lower case. */
export const USERNAME_PATTERN = /^[a-z0-9._@+-]{1,254}$/;

export function normaliseUsername(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

export function checkUsername(username: string): string {
  const normalised = normaliseUsername(username);
  if (!USERNAME_PATTERN.test(normalised)) {
    throw new ImgpipeError('REQUEST_INVALID', 'a username is 1-254 letters, digits and . _ @ + -');
  }
  return normalised;
}
