/**
 * schemathesis (PyPI, from a cached virtualenv: test/api/schemathesis.sh) generates requests from /openapi.json and
 * checks every answer against the document: no 5xx, only documented statuses, content types, headers and bodies,
 * schema-violating requests refused, schema-valid ones accepted (test/api/schemathesis.toml says where a valid
 * request may still be refused), 405 with Allow for undeclared methods, the event stream's events. The real API
 * and stack, with an admin token of a tenant of its own; bounded by --max-examples and a wall-clock cap.
 *
 * IMGPIPE_SCHEMATHESIS_MAX_EXAMPLES (default 60 per operation and phase) and IMGPIPE_SCHEMATHESIS_SEED (default:
 * random, printed) tune a run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { deleteTenantImages, startTestApi, type TestApi, testTenant, tokenFor } from './support.ts';

const SCRIPT = fileURLToPath(new URL('./schemathesis.sh', import.meta.url));
const CONFIG = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));
const MAX_EXAMPLES = Number(process.env['IMGPIPE_SCHEMATHESIS_MAX_EXAMPLES'] || 60);
const SEED = process.env['IMGPIPE_SCHEMATHESIS_SEED'] || String(Math.floor(Math.random() * 2 ** 31));
/** Creating the virtualenv on a fresh machine downloads schemathesis and its dependencies. */
const INSTALL_CAP_MS = 10 * 60_000;
/** The run itself: well above what it takes (about a minute at 60 examples on two cores). */
const RUN_CAP_MS = 8 * 60_000;

interface Run {
  code: number | null;
  output: string;
  timedOut: boolean;
}

function run(args: string[], cwd: string, capMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, capMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

interface Report {
  complete: boolean;
  exit_code: number;
  operations: { total: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number; errored: number };
  failures: unknown[];
  errors: unknown[];
}

describe('schemathesis over /openapi.json', () => {
  let api: TestApi;
  const tenant = testTenant('schemathesis');
  const workDir = mkdtempSync(join(tmpdir(), 'imgpipe-schemathesis-'));

  before(async () => {
    const installed = await run(['--install-only'], workDir, INSTALL_CAP_MS);
    assert.equal(installed.code, 0, `creating the schemathesis virtualenv failed:\n${installed.output}`);
    // URL fetches are refused quickly here (no DNS), but a slow resolver must not stall the run.
    api = await startTestApi({ urlFetchTimeoutMs: 2_000 });
  });
  after(async () => {
    if (api) {
      const { db } = api.api.deps;
      await deleteTenantImages(api.api, [tenant]);
      await db
        .deleteFrom('api_keys' as never)
        .where('tenant_id' as never, '=', tenant as never)
        .execute();
      // Users the run created (POST /v1/users) and their audit rows; sessions go with their users.
      for (const table of ['auth_audit', 'users']) {
        await db
          .deleteFrom(table as never)
          .where('tenant_id' as never, '=', tenant as never)
          .execute();
      }
      await api.close();
    }
    rmSync(workDir, { recursive: true, force: true });
  });

  test('finds no failure', async (t) => {
    const token = tokenFor(tenant, 'admin', { ttlSeconds: 3600 });
    const reportPath = join(workDir, 'report.json');
    const result = await run(
      [
        '--config-file',
        CONFIG,
        'run',
        `${api.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${token}`,
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        SEED,
        '--request-timeout',
        '30',
        '--report',
        'json',
        '--report-json-path',
        reportPath,
      ],
      workDir,
      RUN_CAP_MS,
    );
    assert.equal(result.timedOut, false, `schemathesis ran longer than ${RUN_CAP_MS / 60_000} minutes`);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
    t.diagnostic(
      `seed ${SEED}: ${report.test_cases.generated} cases generated over ${report.operations.tested} operations, ` +
        `${report.failures.length} failures, ${report.errors.length} errors`,
    );
    assert.equal(result.code, 0, result.output);
    assert.equal(report.complete, true);
    assert.deepEqual(report.failures, [], result.output);
    assert.deepEqual(report.errors, [], result.output);
    assert.equal(report.operations.tested, report.operations.total, 'every operation was tested');
    assert.ok(report.operations.total >= 17, `operations: ${report.operations.total}`);
    assert.ok(report.test_cases.generated >= 17 * 10, `only ${report.test_cases.generated} cases`);
  });
});
