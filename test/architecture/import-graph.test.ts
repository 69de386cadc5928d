/**
 * The layout's rules, checked on the static import graph (no services needed):
 *   (a) the API's module graph reaches neither onnxruntime-node nor the stage runtime;
 *   (b) no stage handler imports the results store, PostgreSQL or Kafka;
 *   (c) no app imports another app (the CLI's service registry is the one sanctioned exception);
 *   (d) only the configuration module touches process.env.
 * Each rule first runs on a small synthetic tree with a deliberate violation, so the test is proven able to fail.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  apiRuntimeViolations,
  appBoundaryViolations,
  buildGraph,
  diskTree,
  memoryTree,
  processEnvViolations,
  reachable,
  stageHandlerViolations,
} from './module-graph.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI's registry of service entry paths: the one file that may point into other apps. */
const SANCTIONED_APP_REFERENCES = ['apps/cli/src/service-registry.ts'];

/**
 * Files besides packages/core/src/config.ts that may touch process.env, each with its reason:
 * - apps/cli/src/supervisor.ts starts each service as a child process whose environment is this process's plus a
 *   few variables (IMGPIPE_HTTP_PORT per service); spawn needs the complete object to add to it.
 */
const PROCESS_ENV_ALLOWED = ['packages/core/src/config.ts', 'apps/cli/src/supervisor.ts'];

const manifest = (name: string, exports: Record<string, string> = { '.': './src/index.ts' }) =>
  JSON.stringify({ name, exports });

/** A miniature workspace shaped like the real one; each self-check adds one deliberate violation to it. */
function synthetic(extra: Record<string, string>, base: Record<string, string> = {}) {
  return {
    'apps/ingest-api/package.json': manifest('@imgpipe/ingest-api'),
    'apps/ingest-api/src/main.ts': "import { createApi } from '@imgpipe/http-api';\n",
    'apps/worker/package.json': manifest('@imgpipe/worker'),
    'apps/worker/src/main.ts': "import { preprocessStage } from '@imgpipe/stages';\n",
    'apps/cli/package.json': manifest('@imgpipe/cli'),
    'apps/cli/src/service-registry.ts': "export const worker = new URL('../../worker/src/main.ts', import.meta.url);\n",
    'packages/http-api/package.json': manifest('@imgpipe/http-api'),
    'packages/http-api/src/index.ts': "export { createApi } from './create-api.ts';\n",
    'packages/http-api/src/create-api.ts':
      "import { createKafka } from '@imgpipe/stream/kafka';\nimport type { Stage } from '@imgpipe/stream';\n",
    'packages/stream/package.json': manifest('@imgpipe/stream', {
      '.': './src/index.ts',
      './kafka': './src/kafka-client.ts',
    }),
    'packages/stream/src/index.ts': "export * from './stage-runner.ts';\nexport * from './kafka-client.ts';\n",
    'packages/stream/src/stage-runner.ts': "import { Kafka } from 'kafkajs';\n",
    'packages/stream/src/kafka-client.ts': "import { Kafka } from 'kafkajs';\n",
    'packages/stages/package.json': manifest('@imgpipe/stages'),
    'packages/stages/src/index.ts': "import { Redis } from 'ioredis';\nimport { detect } from '@imgpipe/vision';\n",
    'packages/vision/package.json': manifest('@imgpipe/vision', {
      '.': './src/index.ts',
      './sniff': './src/sniff.ts',
    }),
    'packages/vision/src/index.ts': "export { detect } from './detect.ts';\nexport { sniff } from './sniff.ts';\n",
    'packages/vision/src/detect.ts': "import ort from 'onnxruntime-node';\n",
    'packages/vision/src/sniff.ts': 'export function sniff() {}\n',
    'packages/core/package.json': manifest('@imgpipe/core'),
    'packages/core/src/config.ts': 'export const env = process.env;\n',
    ...base,
    ...extra,
  };
}

const realGraph = buildGraph(diskTree(ROOT));

describe('the self-checks: each rule fails on a deliberate violation', () => {
  test('the synthetic tree itself breaks no rule', () => {
    const tree = memoryTree(synthetic({}));
    const graph = buildGraph(tree);
    assert.deepEqual(apiRuntimeViolations(graph), []);
    assert.deepEqual(stageHandlerViolations(graph), []);
    assert.deepEqual(appBoundaryViolations(graph, SANCTIONED_APP_REFERENCES), []);
    assert.deepEqual(processEnvViolations(tree, ['packages/core/src/config.ts']), []);
  });

  test('(a) the API reaching onnxruntime-node through a barrel re-export is caught, with its chain', () => {
    const graph = buildGraph(
      memoryTree(
        synthetic(
          { 'packages/http-api/src/image-intake.ts': "import { sniff } from '@imgpipe/vision';\n" },
          {
            'packages/http-api/src/index.ts':
              "export { createApi } from './create-api.ts';\nexport * from './image-intake.ts';\n",
          },
        ),
      ),
    );
    const violations = apiRuntimeViolations(graph);
    assert.equal(violations.length, 1);
    assert.match(
      violations[0]!,
      /^npm:onnxruntime-node is loaded by the API: apps\/ingest-api\/src\/main\.ts -> .*packages\/vision\/src\/detect\.ts -> npm:onnxruntime-node$/,
    );
  });

  test('(a) a subpath import is not the barrel: @imgpipe/vision/sniff passes', () => {
    const graph = buildGraph(
      memoryTree(
        synthetic(
          { 'packages/http-api/src/image-intake.ts': "import { sniff } from '@imgpipe/vision/sniff';\n" },
          {
            'packages/http-api/src/index.ts':
              "export { createApi } from './create-api.ts';\nexport * from './image-intake.ts';\n",
          },
        ),
      ),
    );
    assert.deepEqual(apiRuntimeViolations(graph), []);
  });

  test('(a) the stage runtime is caught whether imported, re-exported or dynamically imported', () => {
    for (const line of [
      "import { StageRunner } from '@imgpipe/stream';\n",
      "export { StageRunner } from '@imgpipe/stream';\n",
      "export const load = () => import('@imgpipe/stages');\n",
      "import { type Stage } from '@imgpipe/stream';\n", // not erased: Node still loads the module
    ]) {
      const graph = buildGraph(memoryTree(synthetic({ 'packages/http-api/src/create-api.ts': line })));
      assert.ok(apiRuntimeViolations(graph).length > 0, `not caught: ${line}`);
    }
  });

  test('(a) import type and export type are erased and do not count', () => {
    const graph = buildGraph(
      memoryTree(
        synthetic({
          'packages/http-api/src/create-api.ts':
            "import type { StageRunner } from '@imgpipe/stream';\nexport type { Stage } from '@imgpipe/stages';\n",
        }),
      ),
    );
    assert.deepEqual(apiRuntimeViolations(graph), []);
  });

  test('(b) a stage handler importing kysely, pg, kafkajs, the results store or the stream runtime is caught', () => {
    for (const specifier of ['kysely', 'pg', 'kafkajs', '@imgpipe/results', '@imgpipe/stream']) {
      const graph = buildGraph(
        memoryTree(synthetic({ 'packages/stages/src/results-stage.ts': `import type { X } from '${specifier}';\n` })),
      );
      assert.deepEqual(stageHandlerViolations(graph), [`packages/stages/src/results-stage.ts imports ${specifier}`]);
    }
  });

  test('(c) an app importing another app by path, by name or depending on it is caught; the registry is not', () => {
    const byPath = buildGraph(
      memoryTree(synthetic({ 'apps/ingest-api/src/extra.ts': "import '../../worker/src/main.ts';\n" })),
    );
    assert.deepEqual(appBoundaryViolations(byPath, SANCTIONED_APP_REFERENCES), [
      'apps/ingest-api/src/extra.ts imports another app: ../../worker/src/main.ts',
    ]);
    const byName = buildGraph(
      memoryTree(synthetic({ 'apps/cli/src/commands/run.ts': "const m = await import('@imgpipe/worker');\n" })),
    );
    assert.deepEqual(appBoundaryViolations(byName, SANCTIONED_APP_REFERENCES), [
      'apps/cli/src/commands/run.ts imports another app: @imgpipe/worker',
    ]);
    const byManifest = buildGraph(
      memoryTree(
        synthetic({
          'apps/cli/package.json': JSON.stringify({
            name: '@imgpipe/cli',
            dependencies: { '@imgpipe/worker': '0.1.0' },
          }),
        }),
      ),
    );
    assert.deepEqual(appBoundaryViolations(byManifest, SANCTIONED_APP_REFERENCES), [
      '@imgpipe/cli (apps/cli/package.json) depends on another app: @imgpipe/worker',
    ]);
    const registryUnsanctioned = buildGraph(memoryTree(synthetic({})));
    assert.deepEqual(appBoundaryViolations(registryUnsanctioned, []), [
      'apps/cli/src/service-registry.ts imports another app: ../../worker/src/main.ts',
    ]);
  });

  test('(d) process.env outside the configuration module is caught in every spelling; comments are not', () => {
    const tree = memoryTree(
      synthetic({
        'packages/stream/src/kafka-client.ts':
          "// process.env is not read here\nprocess.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';\n",
        'packages/vision/src/sniff.ts': "const a = process['env'];\nconst { env } = process;\n",
        'packages/vision/src/detect.ts': 'export const level = globalThis.process.env.LEVEL;\n',
        'packages/vision/src/detect.test.ts': 'export const level = process.env.LEVEL;\n',
      }),
    );
    assert.deepEqual(processEnvViolations(tree, ['packages/core/src/config.ts']).sort(), [
      'packages/stream/src/kafka-client.ts:2 touches process.env',
      'packages/vision/src/detect.ts:1 touches process.env',
      'packages/vision/src/sniff.ts:1 touches process.env',
      'packages/vision/src/sniff.ts:2 touches process.env',
    ]);
  });
});

describe('the repository', () => {
  test('every @imgpipe specifier resolves through its package.json exports', () => {
    const unresolved = [...realGraph.edges.values()]
      .flat()
      .filter((edge) => edge.to === undefined)
      .map((edge) => `${edge.from}: ${edge.specifier}`);
    assert.deepEqual(unresolved, []);
  });

  test('(a) the API process loads neither onnxruntime-node nor the stage runtime', () => {
    const modules = reachable(realGraph, 'apps/ingest-api/src/main.ts');
    assert.ok(modules.has('packages/http-api/src/create-api.ts'), 'the walk must reach the API itself');
    assert.ok(modules.has('packages/stream/src/kafka-client.ts'), 'the walk must reach the Kafka client it does use');
    assert.deepEqual(apiRuntimeViolations(realGraph), []);
  });

  test('(b) no stage handler imports the results store, PostgreSQL or Kafka', () => {
    assert.ok([...realGraph.edges.keys()].some((file) => file.startsWith('packages/stages/src/stages/')));
    assert.deepEqual(stageHandlerViolations(realGraph), []);
  });

  test('(c) no app imports another app; the CLI starts services only through its registry', () => {
    assert.deepEqual(appBoundaryViolations(realGraph, SANCTIONED_APP_REFERENCES), []);
    // The registry is sanctioned because it is what points into the other apps: without the exception it is caught.
    assert.ok(appBoundaryViolations(realGraph, []).some((line) => line.startsWith(SANCTIONED_APP_REFERENCES[0]!)));
  });

  test('(d) only the configuration module touches process.env', () => {
    assert.deepEqual(processEnvViolations(realGraph.tree, PROCESS_ENV_ALLOWED), []);
  });
});
