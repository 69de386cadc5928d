import { type Algorithm, hash, verify } from '@node-rs/argon2';

/** Algorithm.Argon2id: the package's enum is a const enum, which type stripping cannot read. */
const ARGON2ID = 2 as Algorithm;

/**
 * argon2id (RFC 9106) with OWASP's minimum parameters: 19 MiB of memory, 2 passes, 1 lane. @node-rs/argon2 runs
 * on libuv's thread pool, off the event loop. Hashes are PHC strings, so parameters can be raised later and old
 * hashes still verify.
 */
export const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/** Makes the dummy hash now, so that the first unknown user does not pay for making it (and so stand out). */
export function prepareDummyHash(): void {
  dummyHash ??= hashPassword('imgpipe dummy password for unknown users');
}

/**
 * Verifies a password against a stored hash; with no hash (an unknown user), verifies it against a dummy hash made
 * with the same parameters and answers false, so an unknown user costs the same time as a wrong password.
 */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  if (stored === undefined) {
    prepareDummyHash();
    await verify(await dummyHash!, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
