import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highestRole, isRole, ROLES, roleAtLeast, TENANT_PATTERN } from './roles.ts';

describe('roles', () => {
  test('viewer < uploader < admin, each including the ones before it', () => {
    assert.deepEqual(ROLES, ['viewer', 'uploader', 'admin']);
    const table = ROLES.map((role) => ROLES.map((required) => roleAtLeast(role, required)));
    assert.deepEqual(table, [
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
  });

  test('isRole knows exactly the three roles', () => {
    for (const role of ROLES) assert.equal(isRole(role), true, role);
    for (const other of ['Admin', 'root', '', undefined, 1, ['admin']])
      assert.equal(isRole(other), false, String(other));
  });

  test('highestRole picks the most powerful known role, whatever the order, ignoring unknown ones', () => {
    assert.equal(highestRole(['viewer', 'admin', 'uploader']), 'admin');
    assert.equal(highestRole(['admin', 'viewer']), 'admin');
    assert.equal(highestRole(['uploader', 'superuser', 'viewer']), 'uploader');
    assert.equal(highestRole(['viewer']), 'viewer');
    assert.equal(highestRole(['superuser', 7, null]), undefined);
    assert.equal(highestRole([]), undefined);
  });

  test('tenant ids: 1-64 characters of A-Za-z0-9._-, not starting with a separator', () => {
    for (const ok of ['a', 'acme', 'Acme-2.prod_eu', `a${'b'.repeat(63)}`]) assert.match(ok, TENANT_PATTERN);
    for (const bad of ['', '-acme', '.acme', 'ac me', 'a/b', 'a\u0000b', `a${'b'.repeat(64)}`]) {
      assert.doesNotMatch(bad, TENANT_PATTERN, JSON.stringify(bad));
    }
  });
});
