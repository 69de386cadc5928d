/**
 * `imgpipe schemas check` and `register` against the real registry. The compatibility logic is exercised on
 * throwaway subjects; the CLI runs against the real subjects, where `check` only reads and `register` re-registers
 * the committed schemas (a no-op when they are already there).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkSchemaCompatibility, DEFAULT_SCHEMAS_DIR, eventSubjects, loadEventSchemas } from '@imgpipe/contracts';
import {
  deleteThrowawaySubjects,
  registerRaw,
  registryHttp,
  registryUrl,
  throwawaySubject,
  withExtraField,
} from './registry-fixtures.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const base = loadEventSchemas().ImageUploaded.text;
const requiredField = { name: 'priority', type: 'int', doc: 'A new field without a default.' };
const optionalField = { name: 'priority', type: ['null', 'int'], default: null, doc: 'A new optional field.' };

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function imgpipe(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['apps/cli/bin/imgpipe.js', ...args],
      { cwd: REPO, env: { ...process.env, IMGPIPE_SCHEMA_REGISTRY_URL: registryUrl } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A copy of schemas/ with ImageUploaded.avsc changed. */
function schemasDirWith(imageUploaded: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'imgpipe-schemas-'));
  for (const file of readdirSync(DEFAULT_SCHEMAS_DIR)) {
    if (file.endsWith('.avsc')) copyFileSync(join(DEFAULT_SCHEMAS_DIR, file), join(dir, file));
  }
  writeFileSync(join(dir, 'ImageUploaded.avsc'), JSON.stringify(JSON.parse(imageUploaded), null, 2));
  return dir;
}

describe('schema compatibility checks (throwaway subjects)', () => {
  let subject: string;

  before(async () => {
    subject = throwawaySubject('check');
    await registerRaw(subject, base);
  });

  after(async () => {
    await deleteThrowawaySubjects();
  });

  test('a new field without a default is incompatible, with the reason', async () => {
    const result = await checkSchemaCompatibility(registryHttp, subject, withExtraField(base, requiredField));
    assert.equal(result.status, 'incompatible');
    assert.equal(result.latestVersion, 1);
    assert.match(result.messages.join('\n'), /default-less io\.imgpipe\.events\.ImageUploaded\.priority/);
  });

  test('a new optional field with a default is compatible', async () => {
    const result = await checkSchemaCompatibility(registryHttp, subject, withExtraField(base, optionalField));
    assert.deepEqual(result, { subject, status: 'compatible', latestVersion: 1, messages: [] });
  });

  test('the unchanged schema is compatible', async () => {
    assert.equal((await checkSchemaCompatibility(registryHttp, subject, base)).status, 'compatible');
  });

  test('a subject with no versions is new', async () => {
    const unregistered = throwawaySubject('unregistered');
    assert.deepEqual(await checkSchemaCompatibility(registryHttp, unregistered, base), {
      subject: unregistered,
      status: 'new',
      messages: [],
    });
  });

  test('the registry would indeed refuse the incompatible version and take the compatible one', async () => {
    await assert.rejects(registerRaw(subject, withExtraField(base, requiredField)), /HTTP 409/);
    await registerRaw(subject, withExtraField(base, optionalField));
    assert.equal((await registryHttp.latest(subject))?.version, 2);
  });
});

describe('imgpipe schemas register|check', () => {
  const dirs: string[] = [];

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('register --json registers every subject and reports version and id', async () => {
    const run = await imgpipe('schemas', 'register', '--json');
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { subjects: { subject: string; id: number; version: number }[] };
    assert.deepEqual(
      report.subjects.map((s) => s.subject),
      eventSubjects().map((s) => s.subject),
    );
    for (const { subject, id, version } of report.subjects) {
      const latest = await registryHttp.latest(subject);
      assert.deepEqual({ id: latest?.id, version: latest?.version }, { id, version }, subject);
    }
  });

  test('check passes on the committed schemas', async () => {
    const run = await imgpipe('schemas', 'check');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /images\.uploaded-value\s+compatible\s+ImageUploaded/);
  });

  test('check --schemas-dir fails with SCHEMA_INCOMPATIBLE on a new field without a default', async () => {
    const dir = schemasDirWith(withExtraField(base, requiredField));
    dirs.push(dir);
    const run = await imgpipe('schemas', 'check', '--schemas-dir', dir, '--json');
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      code: string;
      results: { subject: string; status: string }[];
    };
    assert.equal(report.ok, false);
    assert.equal(report.code, 'SCHEMA_INCOMPATIBLE');
    const incompatible = report.results.filter((r) => r.status === 'incompatible').map((r) => r.subject);
    assert.deepEqual(incompatible, ['images.uploaded-value']);
    assert.match(run.stderr, /SCHEMA_INCOMPATIBLE/);

    const text = await imgpipe('schemas', 'check', '--schemas-dir', dir);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /images\.uploaded-value\s+INCOMPATIBLE/);
    assert.match(text.stderr, /default-less io\.imgpipe\.events\.ImageUploaded\.priority/);
  });

  test('check --schemas-dir passes on a new optional field with a default', async () => {
    const dir = schemasDirWith(withExtraField(base, optionalField));
    dirs.push(dir);
    const run = await imgpipe('schemas', 'check', '--schemas-dir', dir, '--json');
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: { status: string }[] };
    assert.equal(report.ok, true);
    assert.ok(report.results.every((r) => r.status === 'compatible'));
  });

  test('a schemas dir with a broken file is SCHEMA_INVALID', async () => {
    const dir = schemasDirWith(base);
    dirs.push(dir);
    writeFileSync(join(dir, 'DeadLetter.avsc'), '{"type": "record"');
    const run = await imgpipe('schemas', 'check', '--schemas-dir', dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /SCHEMA_INVALID: .*DeadLetter\.avsc is not JSON/);
  });

  test('usage mistakes exit 2', async () => {
    assert.equal((await imgpipe('schemas')).code, 2);
    assert.equal((await imgpipe('schemas', 'publish')).code, 2);
    assert.equal((await imgpipe('schemas', 'check', '--nope')).code, 2);
  });
});
