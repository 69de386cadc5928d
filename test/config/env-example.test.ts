import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => path.includes('/src/') && !path.includes('/node_modules/'));
}

test('.env.example lists every IMGPIPE_ variable the processes read', () => {
  const documented = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const read = new Set<string>();
  for (const file of [...sources(join(ROOT, 'packages')), ...sources(join(ROOT, 'apps'))]) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/['"`](IMGPIPE_[A-Z0-9_]+)['"`]/g)) read.add(name!);
  }
  assert.ok(read.size > 40, `found ${read.size} variables`);
  const missing = [...read].filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(documented));
  assert.deepEqual(missing, [], 'add these to .env.example with their default and meaning');
});
