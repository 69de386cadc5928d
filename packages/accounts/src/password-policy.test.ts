import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { checkPassword, checkUsername } from './password-policy.ts';

const refusal = (password: string, username = 'alice') => {
  try {
    checkPassword(password, { username });
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ImgpipeError);
    assert.equal(error.code, 'AUTH_PASSWORD_WEAK');
    return error.message;
  }
};

describe('the password policy', () => {
  test('accepts a long passphrase that is none of the refused kinds', () => {
    assert.equal(refusal('violet tram under the bridge'), undefined);
    assert.equal(refusal('12 characters'), undefined);
  });

  test('refuses fewer than 12 characters, counting characters rather than UTF-16 units', () => {
    assert.match(refusal('elevenchars') ?? '', /11 characters; at least 12/);
    // Eleven emoji are 22 UTF-16 units but 11 characters.
    assert.match(refusal(`${'🐈🐕'.repeat(5)}🐈`) ?? '', /11 characters/);
    assert.equal(refusal('🐈🐕'.repeat(6)), undefined);
  });

  test('refuses more than 256 characters', () => {
    assert.match(refusal('x'.repeat(200) + 'y'.repeat(57)) ?? '', /257 characters; at most 256/);
  });

  test("refuses the username, case-insensitively, and an e-mail username's local part", () => {
    assert.match(refusal('Alice.Example.Org', 'alice.example.org') ?? '', /is the username/);
    assert.match(refusal('Firstname.Lastname', 'firstname.lastname@example.org') ?? '', /is the username/);
    assert.match(refusal('firstname.lastname@example.org', 'firstname.lastname@example.org') ?? '', /username/);
  });

  test('refuses common passwords whatever their case, and one character repeated', () => {
    assert.match(refusal('Password1234') ?? '', /common passwords/);
    assert.match(refusal('QWERTY123456') ?? '', /common passwords/);
    assert.match(refusal('zzzzzzzzzzzzzz') ?? '', /repeated/);
  });
});

describe('usernames', () => {
  test('are stored in lower case; other characters than letters, digits and . _ @ + - are refused', () => {
    assert.equal(checkUsername('Alice@Example.ORG'), 'alice@example.org');
    assert.throws(() => checkUsername('alice smith'), /letters, digits/);
    assert.throws(() => checkUsername(''), /letters, digits/);
    assert.throws(() => checkUsername('a'.repeat(255)), /letters, digits/);
  });
});
