/** docs/transform.md against the code: every operation and limit documented, the canonical examples true. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { transformLimitSettings } from '../limits.ts';
import { formatRecipe } from './format.ts';
import { OPERATIONS } from './operations.ts';
import { parseRecipe } from './parse.ts';

const docs = readFileSync(new URL('../../../../docs/transform.md', import.meta.url), 'utf8');

describe('docs/transform.md', () => {
  test('has a table row for every operation, and names every argument', () => {
    const missing: string[] = [];
    for (const spec of OPERATIONS) {
      const rows = docs.split('\n').filter((line) => line.startsWith(`| \`${spec.op}\` |`));
      assert.ok(rows.length > 0, `no row for ${spec.op}`);
      for (const variant of spec.variants) {
        for (const param of variant.params) {
          if (param.kind === 'size' || param.kind === 'coord') continue;
          if (!rows.some((row) => row.includes(param.name)) && !docs.includes(`**${param.name}**`)) {
            missing.push(`${spec.op} ${param.name}`);
          }
        }
      }
    }
    assert.deepEqual(missing, [], 'undocumented arguments');
  });

  test('lists every limit variable with its default', () => {
    for (const setting of Object.values(transformLimitSettings)) {
      assert.ok(docs.includes(`\`${setting.variable}\``), `${setting.variable} undocumented`);
    }
  });

  test('the canonical form examples are what formatRecipe writes', () => {
    const section = docs.slice(docs.indexOf('### The canonical form'), docs.indexOf('## The JSON form'));
    const rows = [...section.matchAll(/^\| `([^`]+)` \| `([^`]*)` \|$/gm)];
    assert.ok(rows.length >= 5);
    for (const [, written, canonical] of rows) assert.equal(formatRecipe(parseRecipe(written!)), canonical, written);
  });
});
