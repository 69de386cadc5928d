/**
 * A static module graph of the workspace, for test/architecture/import-graph.test.ts. It parses each file with the
 * TypeScript compiler (no type checking), resolves relative specifiers and `@imgpipe/*` specifiers through each
 * workspace's package.json `exports`, and follows `export … from` as well as imports. Declaration-level
 * `import type` / `export type` are erased by Node's type stripping and so are not runtime edges; `import { type A }`
 * is not erased (Node still loads the module) and counts. Packages outside the workspace are leaves named
 * `npm:<package>`; Node built-ins are dropped.
 *
 * The graph is built from a SourceTree, so the rules can be run on the real repository and on a small synthetic tree
 * with a deliberate violation (the self-checks that prove each rule can fail).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

export interface SourceTree {
  /** Every file, as a path relative to the repository root with forward slashes. */
  files(): readonly string[];
  read(path: string): string;
}

export type EdgeKind = 'static' | 'dynamic' | 'url';

export interface Edge {
  from: string;
  specifier: string;
  kind: EdgeKind;
  /** Erased at runtime (`import type`, `export type`). */
  typeOnly: boolean;
  /** A workspace file, `npm:<package>`, `outside:<path>`, or undefined when a workspace specifier does not resolve. */
  to: string | undefined;
}

export interface ModuleGraph {
  readonly tree: SourceTree;
  readonly edges: ReadonlyMap<string, readonly Edge[]>;
  /** Workspace package name -> its directory (packages/x or apps/x). */
  readonly packages: ReadonlyMap<string, { dir: string; exports: Record<string, string> }>;
}

const SOURCE = /\.(ts|mts|js|mjs)$/;
const BUILTINS = new Set(builtinModules);

export function diskTree(root: string): SourceTree {
  const files: string[] = [];
  for (const top of ['packages', 'apps']) {
    for (const entry of readdirSync(posix.join(root, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = posix.relative(root, posix.join(entry.parentPath, entry.name));
      if (path.includes('node_modules/')) continue;
      if (SOURCE.test(path) || path.endsWith('/package.json')) files.push(path);
    }
  }
  return { files: () => files, read: (path) => readFileSync(posix.join(root, path), 'utf8') };
}

export function memoryTree(contents: Record<string, string>): SourceTree {
  return {
    files: () => Object.keys(contents),
    read: (path) => {
      const text = contents[path];
      if (text === undefined) throw new Error(`no such file in the synthetic tree: ${path}`);
      return text;
    },
  };
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

interface RawImport {
  specifier: string;
  kind: EdgeKind;
  typeOnly: boolean;
}

/** The module specifiers a file names: imports, re-exports, dynamic imports of literals, new URL(literal, import.meta.url). */
export function importsOf(path: string, text: string): RawImport[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: RawImport[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({
        specifier: node.moduleSpecifier.text,
        kind: 'static',
        typeOnly: node.importClause?.isTypeOnly === true,
      });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, kind: 'static', typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteralLike(argument)) {
        found.push({ specifier: argument.text, kind: 'dynamic', typeOnly: false });
      }
    } else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.length === 2 &&
      ts.isStringLiteralLike(node.arguments[0]!) &&
      node.arguments[1]!.getText(source) === 'import.meta.url'
    ) {
      const target = (node.arguments[0] as ts.StringLiteralLike).text;
      if (target.startsWith('.')) found.push({ specifier: target, kind: 'url', typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function buildGraph(tree: SourceTree): ModuleGraph {
  const files = new Set(tree.files());
  const packages = new Map<string, { dir: string; exports: Record<string, string> }>();
  for (const file of files) {
    if (!/^(packages|apps)\/[^/]+\/package\.json$/.test(file)) continue;
    const manifest = JSON.parse(tree.read(file)) as { name: string; exports?: string | Record<string, string> };
    const exports = typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
    packages.set(manifest.name, { dir: posix.dirname(file), exports });
  }

  const resolveFile = (candidate: string): string | undefined => {
    const normalized = posix.normalize(candidate);
    if (files.has(normalized)) return normalized;
    for (const suffix of ['.ts', '/index.ts', '.js', '/index.js']) {
      if (files.has(normalized + suffix)) return normalized + suffix;
    }
    return undefined;
  };

  const resolve = (from: string, specifier: string, kind: EdgeKind): string | undefined => {
    if (specifier.startsWith('.')) {
      const target = posix.join(posix.dirname(from), specifier);
      const file = resolveFile(target);
      if (file) return file;
      // new URL('../../../schemas/', import.meta.url) names data, not a module.
      if (kind === 'url' && !SOURCE.test(target)) return 'node:';
      // Outside the workspaces (test/ support, ../shared): a leaf, not followed.
      return /^(packages|apps)\//.test(target) ? undefined : `outside:${target}`;
    }
    if (specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(packageOf(specifier))) return 'node:';
    const name = packageOf(specifier);
    const workspace = packages.get(name);
    if (!workspace) return `npm:${name}`;
    const subpath = `.${specifier.slice(name.length)}`;
    const target = workspace.exports[subpath];
    return target === undefined ? undefined : resolveFile(posix.join(workspace.dir, target));
  };

  const edges = new Map<string, Edge[]>();
  for (const file of files) {
    if (!SOURCE.test(file)) continue;
    const list: Edge[] = [];
    for (const raw of importsOf(file, tree.read(file))) {
      const to = resolve(file, raw.specifier, raw.kind);
      if (to === 'node:') continue;
      list.push({ from: file, ...raw, to });
    }
    edges.set(file, list);
  }
  return { tree, edges, packages };
}

/**
 * Every module reachable at runtime from `entry` (type-only edges skipped), each with the chain that reaches it.
 */
export function reachable(graph: ModuleGraph, entry: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const edge of graph.edges.get(current) ?? []) {
      if (edge.typeOnly || edge.to === undefined || chains.has(edge.to)) continue;
      chains.set(edge.to, [...chains.get(current)!, edge.to]);
      if (!edge.to.startsWith('npm:') && !edge.to.startsWith('outside:')) queue.push(edge.to);
    }
  }
  return chains;
}

// --- the rules; each returns its violations as readable lines (empty: the rule holds) ---

/**
 * (a) The API process loads neither onnxruntime-node nor the stage runtime (stages, or stream beyond its Kafka client
 * with its kafkajs mend, the stage control topic's client and the consumer groups' progress reader).
 */
const API_STREAM_MODULES = new Set([
  'packages/stream/src/kafka-client.ts',
  'packages/stream/src/kafkajs-request-queue.ts',
  'packages/stream/src/stage-control.ts',
  'packages/stream/src/group-progress.ts',
]);
export function apiRuntimeViolations(graph: ModuleGraph, entry = 'apps/ingest-api/src/main.ts'): string[] {
  const forbidden = (module: string): boolean =>
    module === 'npm:onnxruntime-node' ||
    module.startsWith('packages/stages/') ||
    (module.startsWith('packages/stream/src/') && !API_STREAM_MODULES.has(module));
  return [...reachable(graph, entry)]
    .filter(([module]) => forbidden(module))
    .map(([module, chain]) => `${module} is loaded by the API: ${chain.join(' -> ')}`);
}

/** (b) Stage handlers know neither the results store nor PostgreSQL nor Kafka (type-only imports included). */
export function stageHandlerViolations(graph: ModuleGraph): string[] {
  const banned = new Set(['@imgpipe/results', 'kysely', 'pg', 'kafkajs', '@imgpipe/stream']);
  const lines: string[] = [];
  for (const [file, edges] of graph.edges) {
    if (!file.startsWith('packages/stages/')) continue;
    for (const edge of edges) {
      if (banned.has(packageOf(edge.specifier)) || edge.to?.startsWith('packages/results/')) {
        lines.push(`${file} imports ${edge.specifier}`);
      }
    }
  }
  return lines;
}

/**
 * (c) No app imports another app, by package name or by path (type-only imports and `new URL(…)` entry paths
 * included), and no app's package.json depends on another app. `sanctioned` lists the files allowed to name other
 * apps' entry modules (the CLI's service registry).
 */
export function appBoundaryViolations(graph: ModuleGraph, sanctioned: readonly string[]): string[] {
  const appOf = (path: string | undefined): string | undefined => /^apps\/([^/]+)\//.exec(path ?? '')?.[1];
  const appPackages = new Set([...graph.packages].filter(([, { dir }]) => dir.startsWith('apps/')).map(([n]) => n));
  const lines: string[] = [];
  for (const [file, edges] of graph.edges) {
    const app = appOf(file);
    if (!app || sanctioned.includes(file)) continue;
    for (const edge of edges) {
      const targetApp = appOf(edge.to);
      const byName = appPackages.has(packageOf(edge.specifier));
      if (
        (targetApp && targetApp !== app) ||
        (byName && graph.packages.get(packageOf(edge.specifier))?.dir !== `apps/${app}`)
      ) {
        lines.push(`${file} imports another app: ${edge.specifier}`);
      }
    }
  }
  for (const [name, { dir }] of graph.packages) {
    if (!dir.startsWith('apps/')) continue;
    const manifest = JSON.parse(graph.tree.read(`${dir}/package.json`)) as Record<string, Record<string, string>>;
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const dependency of Object.keys(manifest[field] ?? {})) {
        if (appPackages.has(dependency))
          lines.push(`${name} (${dir}/package.json) depends on another app: ${dependency}`);
      }
    }
  }
  return lines;
}

/** Files exempt from rule (d): tests, test support, benchmarks (test/, bench/ and scripts/ are outside the tree). */
export function isTestOrBench(path: string): boolean {
  return /\.test\.(ts|js)$/.test(path) || path.includes('/testing/') || /^(packages|apps)\/[^/]+\/bench\//.test(path);
}

/** (d) Only the configuration module (and the allow-list) touches process.env. */
export function processEnvViolations(tree: SourceTree, allowed: readonly string[]): string[] {
  const lines: string[] = [];
  for (const file of tree.files()) {
    if (!SOURCE.test(file) || isTestOrBench(file) || allowed.includes(file)) continue;
    const source = ts.createSourceFile(file, tree.read(file), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const isProcess = (node: ts.Node): boolean =>
      (ts.isIdentifier(node) && node.text === 'process') ||
      (ts.isPropertyAccessExpression(node) &&
        node.name.text === 'process' &&
        node.expression.getText(source) === 'globalThis');
    const visit = (node: ts.Node): void => {
      const touches =
        (ts.isPropertyAccessExpression(node) && node.name.text === 'env' && isProcess(node.expression)) ||
        (ts.isElementAccessExpression(node) &&
          isProcess(node.expression) &&
          ts.isStringLiteralLike(node.argumentExpression) &&
          node.argumentExpression.text === 'env') ||
        // const { env } = process
        (ts.isVariableDeclaration(node) &&
          node.initializer !== undefined &&
          isProcess(node.initializer) &&
          ts.isObjectBindingPattern(node.name) &&
          node.name.elements.some((element) => (element.propertyName ?? element.name).getText(source) === 'env'));
      if (touches) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        lines.push(`${file}:${line + 1} touches process.env`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return lines;
}
