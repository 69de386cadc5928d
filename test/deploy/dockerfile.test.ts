/**
 * The Dockerfile, checked without a Docker engine (none runs here; hadolint is not installable offline): its
 * instructions are parsed and held to the image's promises, and its HEALTHCHECK command is run for real against
 * a local HTTP server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { NODE_RUNTIME_FLAGS } from '../../apps/cli/src/node-runtime-flags.ts';
import { REPO_ROOT } from './manifests.ts';

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8'));
const dockerignore = readFileSync(`${REPO_ROOT}.dockerignore`, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));
const stages = dockerfile.filter((i) => i.keyword === 'FROM');
/** The instructions of the last stage, the image that ships. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf(stages.at(-1)!));
const argDefault = (name: string) =>
  dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith(`${name}=`))?.args.slice(name.length + 1);
const execForm = (keyword: string) => {
  const instruction = runtime.find((i) => i.keyword === keyword);
  assert.ok(instruction, `${keyword} present`);
  return JSON.parse(instruction.args) as string[];
};

describe('Dockerfile', () => {
  test('multi-stage: runtime dependencies installed with npm ci --omit=dev, onnxruntime download skipped', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.ok(dockerfile.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)));
    assert.ok(dockerfile.some((i) => i.keyword === 'ENV' && i.args.includes('ONNXRUNTIME_NODE_INSTALL=skip')));
  });

  test('the runtime is Node 24 on Debian bookworm slim (glibc for the sharp and onnxruntime binaries)', () => {
    assert.equal(argDefault('NODE_IMAGE'), 'node:24-bookworm-slim');
    assert.match(stages.at(-1)?.args ?? '', /^\$\{NODE_IMAGE\} AS runtime$/);
  });

  test('runs as the non-root user 10001', () => {
    const users = runtime.filter((i) => i.keyword === 'USER');
    assert.equal(users.at(-1)?.args, '10001:10001', 'numeric, so runAsNonRoot can verify it');
    assert.ok(runtime.some((i) => i.keyword === 'RUN' && /useradd --uid 10001/.test(i.args)));
  });

  test('jemalloc from Debian is preloaded', () => {
    assert.ok(runtime.some((i) => i.keyword === 'RUN' && /apt-get install .*libjemalloc2/.test(i.args)));
    const env = runtime
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.match(env, /LD_PRELOAD=\/usr\/local\/lib\/libjemalloc\.so\.2/);
  });

  test("entrypoint is the imgpipe CLI under imgpipe's runtime V8 flags (as imgpipe dev gives them), default command the ingest API", () => {
    assert.deepEqual(execForm('ENTRYPOINT'), ['node', ...NODE_RUNTIME_FLAGS, 'apps/cli/bin/imgpipe.js']);
    const env = runtime
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.doesNotMatch(
      env,
      /NODE_OPTIONS=/,
      'the flags are in the entrypoint, so a manifest may set NODE_OPTIONS freely',
    );
    assert.ok(existsSync(`${REPO_ROOT}apps/cli/bin/imgpipe.js`));
    assert.deepEqual(execForm('CMD'), ['run', 'ingest-api']);
  });

  test('models: baked from the MODELS_DIR build argument into /models, the default folder exists', () => {
    const modelsDir = argDefault('MODELS_DIR');
    assert.ok(modelsDir && existsSync(`${REPO_ROOT}${modelsDir}`), `default MODELS_DIR ${modelsDir} exists`);
    assert.ok(runtime.some((i) => i.keyword === 'COPY' && /^\$\{MODELS_DIR\}\/ \/models\/$/.test(i.args)));
    assert.match(
      runtime
        .filter((i) => i.keyword === 'ENV')
        .map((i) => i.args)
        .join(' '),
      /IMGPIPE_MODELS_DIR=\/models/,
    );
  });

  test('.dockerignore keeps dependencies and history out, and everything the image runs in', () => {
    for (const pattern of ['.git', '**/node_modules']) assert.ok(dockerignore.includes(pattern), pattern);
    for (const needed of [
      'apps',
      'packages',
      'schemas',
      'package.json',
      'package-lock.json',
      '.npmrc',
      'infra/docker',
    ]) {
      assert.ok(!dockerignore.includes(needed), `${needed} must reach the build`);
    }
  });
});

describe('the image HEALTHCHECK command', () => {
  const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
  const command = JSON.parse(healthcheck?.args.replace(/^.*?CMD\s+/, '') ?? '[]') as string[];
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  const serve = async (status: number): Promise<number> => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const freePort = async (): Promise<number> => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  };
  const run = async (env: Record<string, string>): Promise<number> => {
    const [program, ...args] = command;
    assert.equal(program, 'node');
    try {
      await promisify(execFile)(process.execPath, args, { env: { ...process.env, ...env } });
      return 0;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };

  test('is a node one-liner probing /healthz', () => {
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/healthz/);
  });

  test('healthy when a worker answers on IMGPIPE_HTTP_PORT, or the API on IMGPIPE_API_PORT', async () => {
    const idle = String(await freePort());
    assert.equal(await run({ IMGPIPE_HTTP_PORT: String(await serve(200)), IMGPIPE_API_PORT: idle }), 0);
    assert.equal(await run({ IMGPIPE_HTTP_PORT: idle, IMGPIPE_API_PORT: String(await serve(200)) }), 0);
  });

  test('unhealthy when /healthz fails or nothing listens', async () => {
    const idle = String(await freePort());
    assert.equal(await run({ IMGPIPE_HTTP_PORT: String(await serve(503)), IMGPIPE_API_PORT: idle }), 1);
    assert.equal(await run({ IMGPIPE_HTTP_PORT: idle, IMGPIPE_API_PORT: idle }), 1);
  });
});
