import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from './password-hasher.ts';

test('hashes are argon2id PHC strings with OWASP parameters and a fresh salt each time', async () => {
  const [first, second] = await Promise.all([hashPassword('violet tram bridge'), hashPassword('violet tram bridge')]);
  assert.match(first, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(first, second);
  assert.equal(await verifyPassword(first, 'violet tram bridge'), true);
  assert.equal(await verifyPassword(second, 'violet tram bridge'), true);
  assert.equal(await verifyPassword(first, 'violet tram bridgE'), false);
});

test('an unknown user (no stored hash) and a malformed hash answer false', async () => {
  assert.equal(await verifyPassword(undefined, 'violet tram bridge'), false);
  assert.equal(await verifyPassword('not a hash', 'violet tram bridge'), false);
});
