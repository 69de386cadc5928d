/**
 * Mutation testing of the pure modules (`npm run mutate`): each mutant is one small deliberate bug in one source
 * file; the module's unit tests run against it, and a mutant the tests do not notice (survived) points at a missing
 * test. Not part of CI's hot path.
 *
 *   node scripts/mutate.ts [--module NAME]... [--max-per-module N] [--named-only] [--list] [--json] [--jobs N]
 *                          [--in-place]
 *
 * Mutants come from simple operators on the TypeScript syntax tree (each explained by its name below), plus the named
 * mutations in scripts/mutations.ts. By default a mutant never touches the working tree: the test process loads the
 * mutated source through a module hook (this file, preloaded with --import), so other work in the same tree (and
 * other test runs) never sees a mutant, and an interrupted run leaves nothing behind. `--in-place` instead writes each
 * mutant over the file and restores it afterwards (always: finally, SIGINT/SIGTERM, and a backup that a later run
 * restores if this one was killed outright).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  globSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { registerHooks } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as TS from 'typescript';
import { MODULES, type MutationModule, NAMED_MUTATIONS } from './mutations.ts';

const HOOK_TARGET = 'IMGPIPE_MUTANT_TARGET';
const HOOK_SOURCE = 'IMGPIPE_MUTANT_SOURCE';
const HOOK_MARKER = 'IMGPIPE_MUTANT_MARKER';

// Preloaded into a test process (NODE_OPTIONS=--import): serve the mutant's source for its file, and note that the
// file was loaded at all (a mutant in a file the tests never import cannot be killed).
if (!import.meta.main && process.env[HOOK_TARGET] && process.env[HOOK_SOURCE]) {
  const target = pathToFileURL(process.env[HOOK_TARGET]).href;
  const source = readFileSync(process.env[HOOK_SOURCE], 'utf8');
  const marker = process.env[HOOK_MARKER];
  registerHooks({
    load(url, context, nextLoad) {
      const loaded = nextLoad(url, context);
      if (url !== target) return loaded;
      if (marker) writeFileSync(marker, 'loaded');
      return { ...loaded, source };
    },
  });
}

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BACKUP_DIR = join(tmpdir(), 'imgpipe-mutate-backups');

export interface Mutant {
  id: string;
  module: string;
  /** Repository-relative path. */
  file: string;
  line: number;
  column: number;
  operator: string;
  /** The named mutation's name, for those from scripts/mutations.ts. */
  name?: string;
  start: number;
  end: number;
  original: string;
  replacement: string;
}

type Status = 'killed' | 'survived' | 'timeout' | 'not-loaded';

interface Outcome {
  mutant: Mutant;
  status: Status;
  ms: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Generating mutants

const RELATIONAL_BOUNDARY: Record<string, string> = { '<': '<=', '<=': '<', '>': '>=', '>=': '>' };
const RELATIONAL_NEGATION: Record<string, string> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const EQUALITY: Record<string, string> = { '===': '!==', '!==': '===', '==': '!=', '!=': '==' };
const ARITHMETIC: Record<string, string> = { '+': '-', '-': '+', '*': '/', '/': '*', '%': '*' };
const COMPOUND: Record<string, string> = { '+=': '-=', '-=': '+=', '*=': '/=', '/=': '*=' };
const LOGICAL: Record<string, string> = { '&&': '||', '||': '&&' };
const MATH_SWAP: Record<string, string> = { min: 'max', max: 'min', floor: 'ceil', ceil: 'floor' };
const ERROR_CLASSES = new Set(['ImgpipeError', 'Error', 'TypeError', 'RangeError']);

/** Mutants of one file from the syntax tree; `checker` tells numbers from strings (for + and return values). */
export function mutantsOf(
  ts: typeof TS,
  module: string,
  file: string,
  sourceFile: TS.SourceFile,
  checker: TS.TypeChecker | undefined,
): Mutant[] {
  const text = sourceFile.text;
  const out: Mutant[] = [];
  const add = (node: TS.Node | { start: number; end: number }, operator: string, replacement: string) => {
    const start = 'kind' in node ? node.getStart(sourceFile) : node.start;
    const end = 'kind' in node ? node.getEnd() : node.end;
    const original = text.slice(start, end);
    if (original === replacement) return;
    const { line, character } = sourceFile.getLineAndCharacterOfPosition(start);
    out.push({
      id: `${file}:${line + 1}:${character + 1} ${operator} ${JSON.stringify(replacement).slice(0, 40)}`,
      module,
      file,
      line: line + 1,
      column: character + 1,
      operator,
      start,
      end,
      original,
      replacement,
    });
  };
  const typeFlags = (node: TS.Node) => (checker ? checker.getTypeAtLocation(node).flags : 0);
  const isNumeric = (node: TS.Node) =>
    ts.isNumericLiteral(node) || (checker !== undefined && (typeFlags(node) & ts.TypeFlags.NumberLike) !== 0);

  const visit = (node: TS.Node): void => {
    if (
      ts.isImportDeclaration(node) ||
      ts.isExportDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isTypeNode(node)
    ) {
      return;
    }
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.getText(sourceFile);
      const token = node.operatorToken;
      if (RELATIONAL_BOUNDARY[op]) {
        add(token, 'relational boundary', RELATIONAL_BOUNDARY[op]);
        add(token, 'relational negation', RELATIONAL_NEGATION[op]!);
      } else if (EQUALITY[op]) {
        add(token, 'equality flip', EQUALITY[op]);
      } else if (LOGICAL[op]) {
        add(token, 'logical swap', LOGICAL[op]);
      } else if (ARITHMETIC[op] && (op !== '+' || (isNumeric(node.left) && isNumeric(node.right)))) {
        add(token, 'arithmetic swap', ARITHMETIC[op]);
      } else if (COMPOUND[op] && (op !== '+=' || isNumeric(node.left))) {
        add(token, 'arithmetic swap', COMPOUND[op]);
      }
    } else if (ts.isPrefixUnaryExpression(node)) {
      if (node.operator === ts.SyntaxKind.ExclamationToken) {
        add(node, 'negation removed', node.operand.getText(sourceFile));
      } else if (node.operator === ts.SyntaxKind.MinusToken && !ts.isNumericLiteral(node.operand)) {
        add(node, 'unary minus removed', node.operand.getText(sourceFile));
      }
    } else if (node.kind === ts.SyntaxKind.TrueKeyword) {
      add(node, 'boolean flip', 'false');
    } else if (node.kind === ts.SyntaxKind.FalseKeyword) {
      add(node, 'boolean flip', 'true');
    } else if (ts.isNumericLiteral(node)) {
      const value = Number(node.text);
      if (Number.isInteger(value)) {
        add(node, 'number +1', String(value + 1));
        add(node, 'number -1', String(value - 1));
      } else {
        add(node, 'number to 0', '0');
        add(node, 'number +1', String(value + 1));
      }
    } else if (ts.isStringLiteral(node) && node.text !== '' && !isExemptString(ts, node)) {
      add(node, 'string emptied', "''");
    } else if (ts.isIfStatement(node) || ts.isConditionalExpression(node)) {
      const condition = ts.isIfStatement(node) ? node.expression : node.condition;
      if (condition.kind !== ts.SyntaxKind.TrueKeyword && condition.kind !== ts.SyntaxKind.FalseKeyword) {
        add(condition, 'condition forced true', 'true');
        add(condition, 'condition forced false', 'false');
      }
    } else if (ts.isReturnStatement(node) && node.expression && checker) {
      const replacement = returnReplacement(ts, checker, node.expression, sourceFile);
      if (replacement !== undefined) add(node.expression, 'return value replaced', replacement);
    } else if (
      ts.isPropertyAccessExpression(node) &&
      node.expression.getText(sourceFile) === 'Math' &&
      MATH_SWAP[node.name.text]
    ) {
      add(node.name, 'Math method swap', MATH_SWAP[node.name.text]!);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return out;
}

/** Strings whose emptying says nothing about behaviour: module names, property keys, error messages. */
function isExemptString(ts: typeof TS, node: TS.StringLiteral): boolean {
  const parent = node.parent;
  if (ts.isPropertyAssignment(parent) && parent.name === node) return true;
  if (ts.isLiteralTypeNode(parent)) return true;
  if (ts.isExpressionStatement(parent)) return true; // 'use strict'
  if (ts.isNewExpression(parent) && ts.isIdentifier(parent.expression) && ERROR_CLASSES.has(parent.expression.text)) {
    return (parent.arguments?.indexOf(node) ?? -1) >= 1 || parent.expression.text !== 'ImgpipeError';
  }
  return false;
}

function returnReplacement(
  ts: typeof TS,
  checker: TS.TypeChecker,
  expression: TS.Expression,
  sourceFile: TS.SourceFile,
): string | undefined {
  // Literals are already mutated by the literal operators.
  if (
    ts.isLiteralExpression(expression) ||
    expression.kind === ts.SyntaxKind.TrueKeyword ||
    expression.kind === ts.SyntaxKind.FalseKeyword
  ) {
    return undefined;
  }
  const type = checker.getTypeAtLocation(expression);
  const text = expression.getText(sourceFile);
  if (type.flags & ts.TypeFlags.BooleanLike) return `!(${text})`;
  if (type.flags & ts.TypeFlags.NumberLike) return text === '0' ? '1' : '0';
  if (type.flags & ts.TypeFlags.StringLike) return text === "''" ? "'x'" : "''";
  if (checker.isArrayType(type) || checker.isTupleType(type)) return text === '[]' ? undefined : '[]';
  return undefined;
}

function namedMutants(modules: readonly MutationModule[]): Mutant[] {
  const wanted = new Set(modules.map((m) => m.name));
  return NAMED_MUTATIONS.filter((named) => wanted.has(named.module)).map((named) => {
    const text = readFileSync(join(ROOT, named.file), 'utf8');
    const start = text.indexOf(named.find);
    if (start < 0 || text.indexOf(named.find, start + 1) >= 0) {
      throw new Error(
        `named mutation "${named.name}": ${named.file} must contain ${JSON.stringify(named.find)} exactly once; ` +
          'update scripts/mutations.ts to follow the code',
      );
    }
    const line = text.slice(0, start).split('\n').length;
    const column = start - text.lastIndexOf('\n', start - 1);
    return {
      id: `${named.file}:${line}:${column} named ${named.name}`,
      module: named.module,
      file: named.file,
      line,
      column,
      operator: 'named',
      name: named.name,
      start,
      end: start + named.find.length,
      original: named.find,
      replacement: named.replace,
    };
  });
}

function expand(patterns: readonly string[], what: string, required = true): string[] {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const matches = globSync(pattern, { cwd: ROOT }).sort();
    for (const match of matches) found.add(match);
  }
  if (found.size === 0 && required) throw new Error(`no ${what} match ${patterns.join(', ')}`);
  return [...found];
}

function stableHash(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** At most `max` generated mutants per module, the same ones on every run (ordered by a hash of their id). */
function sample(mutants: Mutant[], max: number | undefined): Mutant[] {
  if (max === undefined || mutants.length <= max) return mutants;
  const kept = new Set([...mutants].sort((a, b) => (stableHash(a.id) < stableHash(b.id) ? -1 : 1)).slice(0, max));
  return mutants.filter((m) => kept.has(m));
}

async function generate(
  modules: readonly MutationModule[],
  maxPerModule: number | undefined,
): Promise<Map<string, Mutant[]>> {
  const ts = ((await import('typescript')) as unknown as { default: typeof TS }).default;
  const allFiles = modules.flatMap((m) => expand(m.files, `source files of ${m.name}`));
  const program = ts.createProgram(
    allFiles.map((f) => join(ROOT, f)),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const byModule = new Map<string, Mutant[]>();
  for (const module of modules) {
    const generated: Mutant[] = [];
    for (const file of expand(module.files, `source files of ${module.name}`)) {
      const sourceFile = program.getSourceFile(join(ROOT, file));
      if (!sourceFile) throw new Error(`TypeScript could not read ${file}`);
      generated.push(...mutantsOf(ts, module.name, file, sourceFile, checker));
    }
    const named = namedMutants([module]);
    byModule.set(module.name, [...named, ...sample(generated, maxPerModule)]);
  }
  return byModule;
}

// ---------------------------------------------------------------------------------------------------------------
// Running tests against mutants

interface RunResult {
  exitCode: number | null;
  timedOut: boolean;
  ms: number;
  output: string;
}

const running = new Set<number>();

function runTests(tests: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      ['--test', '--test-isolation=none', '--test-reporter=dot', ...tests],
      // Its own process group, so a timed-out run is killed with everything it started.
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const pid = child.pid!;
    running.add(pid);
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < 20_000) output += chunk.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, timeoutMs);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      running.delete(pid);
      killGroup(pid); // anything the tests left behind
      resolveRun({ exitCode, timedOut, ms: performance.now() - started, output });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function mutatedSource(mutant: Mutant): string {
  const text = readFileSync(join(ROOT, mutant.file), 'utf8');
  if (text.slice(mutant.start, mutant.end) !== mutant.original) {
    throw new Error(`${mutant.file} changed while mutating (at line ${mutant.line}); run again`);
  }
  return text.slice(0, mutant.start) + mutant.replacement + text.slice(mutant.end);
}

function outcomeOf(mutant: Mutant, result: RunResult, loaded: boolean): Outcome {
  let status: Status;
  if (result.timedOut) status = 'timeout';
  else if (result.exitCode !== 0) status = 'killed';
  else status = loaded ? 'survived' : 'not-loaded';
  return { mutant, status, ms: result.ms };
}

/** In memory: the test process gets the mutant through the module hook; the file on disk is never touched. */
async function runInMemory(mutant: Mutant, tests: readonly string[], timeoutMs: number, work: string) {
  const dir = mkdtempSync(join(work, 'm-'));
  try {
    const sourcePath = join(dir, 'source.ts');
    const marker = join(dir, 'loaded');
    writeFileSync(sourcePath, mutatedSource(mutant));
    const env = {
      ...process.env,
      NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${pathToFileURL(fileURLToPath(import.meta.url)).href}`,
      [HOOK_TARGET]: join(ROOT, mutant.file),
      [HOOK_SOURCE]: sourcePath,
      [HOOK_MARKER]: marker,
    };
    const result = await runTests(tests, env, timeoutMs);
    return outcomeOf(mutant, result, existsSync(marker));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function backupPath(file: string): string {
  return join(BACKUP_DIR, Buffer.from(file).toString('base64url'));
}

/** Puts back any file a previous --in-place run could not restore (it was killed outright). */
function restoreLeftBackups(): void {
  if (!existsSync(BACKUP_DIR)) return;
  for (const entry of readdirSync(BACKUP_DIR)) {
    const file = Buffer.from(entry, 'base64url').toString();
    copyFileSync(join(BACKUP_DIR, entry), join(ROOT, file));
    rmSync(join(BACKUP_DIR, entry));
    console.error(`restored ${file} from the backup of an interrupted run`);
  }
}

/** In place: the mutant is written over the file, which is restored from its backup whatever happens. */
async function runInPlace(mutant: Mutant, tests: readonly string[], timeoutMs: number) {
  const path = join(ROOT, mutant.file);
  const backup = backupPath(mutant.file);
  const source = mutatedSource(mutant);
  mkdirSync(BACKUP_DIR, { recursive: true });
  copyFileSync(path, backup);
  try {
    writeFileSync(path, source);
    const result = await runTests(tests, process.env, timeoutMs);
    return outcomeOf(mutant, result, true);
  } finally {
    copyFileSync(backup, path);
    rmSync(backup);
  }
}

async function pool<T, R>(items: readonly T[], jobs: number, work: (item: T, index: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface ModuleReport {
  module: string;
  files: string[];
  tests: string[];
  baselineMs: number;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  notLoaded: number;
  /** (killed + timeout) / mutants, in percent. */
  score: number;
  outcomes: Outcome[];
}

function emptyReport(module: string, files: string[], tests: string[], mutants: number): ModuleReport {
  const score = mutants === 0 ? 100 : 0;
  return {
    module,
    files,
    tests,
    baselineMs: 0,
    mutants,
    killed: 0,
    timeout: 0,
    survived: 0,
    notLoaded: 0,
    score,
    outcomes: [],
  };
}

function diffOf(mutant: Mutant): string[] {
  const text = readFileSync(join(ROOT, mutant.file), 'utf8');
  const lineStart = text.lastIndexOf('\n', mutant.start - 1) + 1;
  const endNewline = text.indexOf('\n', mutant.end);
  const lineEnd = endNewline < 0 ? text.length : endNewline;
  const before = text.slice(lineStart, lineEnd);
  const after = text.slice(lineStart, mutant.start) + mutant.replacement + text.slice(mutant.end, lineEnd);
  return [...before.split('\n').map((l) => `- ${l}`), ...after.split('\n').map((l) => `+ ${l}`)];
}

function printTable(reports: readonly ModuleReport[]): void {
  const rows = [
    ['module', 'mutants', 'killed', 'timeout', 'survived', 'score'],
    ...reports.map((r) => [
      r.module,
      String(r.mutants),
      String(r.killed),
      String(r.timeout),
      String(r.survived + r.notLoaded),
      `${r.score.toFixed(1)}%`,
    ]),
  ];
  const total = reports.reduce(
    (sum, r) => ({ mutants: sum.mutants + r.mutants, detected: sum.detected + r.killed + r.timeout }),
    { mutants: 0, detected: 0 },
  );
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) {
    console.log(
      row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join('  '),
    );
  }
  if (reports.length > 1) {
    console.log(
      `total: ${total.detected}/${total.mutants} detected (${((100 * total.detected) / Math.max(1, total.mutants)).toFixed(1)}%)`,
    );
  }
}

function printDetails(reports: readonly ModuleReport[]): void {
  const named = reports.flatMap((r) => r.outcomes.filter((o) => o.mutant.name));
  if (named.length > 0) {
    console.log('\nnamed mutations:');
    for (const o of named) console.log(`  ${o.status.padEnd(10)} ${o.mutant.name} (${o.mutant.file}:${o.mutant.line})`);
  }
  for (const report of reports) {
    const survivors = report.outcomes.filter((o) => o.status === 'survived' || o.status === 'not-loaded');
    if (survivors.length === 0) continue;
    console.log(`\nsurvivors in ${report.module}:`);
    for (const { mutant, status } of survivors) {
      const how = status === 'not-loaded' ? ' (no unit test loads this file)' : '';
      console.log(`  ${mutant.file}:${mutant.line}:${mutant.column} ${mutant.name ?? mutant.operator}${how}`);
      for (const line of diffOf(mutant)) console.log(`    ${line}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

const USAGE = `Usage: node scripts/mutate.ts [options]

  --module NAME         only this module (repeatable): ${MODULES.map((m) => m.name).join(', ')}
  --max-per-module N    at most N generated mutants per module (a fixed sample; named ones always run)
  --named-only          only the named mutations of scripts/mutations.ts
  --list                print the mutants without running anything
  --json                print the results as JSON instead of the table
  --jobs N              mutants tested at once (default 1; in-memory mode only)
  --in-place            write each mutant over its file (restored afterwards) instead of serving it in memory
  --timeout-factor F    a mutant's test run times out after F x the clean run + 5 s (default 4)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      module: { type: 'string', multiple: true },
      'max-per-module': { type: 'string' },
      'named-only': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      jobs: { type: 'string', default: '1' },
      'in-place': { type: 'boolean', default: false },
      'timeout-factor': { type: 'string', default: '4' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = (values.module ?? []).filter((name) => !MODULES.some((m) => m.name === name));
  if (unknown.length > 0) {
    console.error(`unknown module ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const modules = values.module ? MODULES.filter((m) => values.module!.includes(m.name)) : MODULES;
  const maxPerModule = values['max-per-module'] === undefined ? undefined : Number(values['max-per-module']);
  const jobs = Math.max(1, Math.min(Number(values.jobs), availableParallelism()));
  const timeoutFactor = Number(values['timeout-factor']);
  if ((maxPerModule !== undefined && !(maxPerModule >= 0)) || !(jobs >= 1) || !(timeoutFactor > 0)) {
    console.error(`--max-per-module, --jobs and --timeout-factor take positive numbers\n\n${USAGE}`);
    return 2;
  }
  const inPlace = values['in-place'];
  if (inPlace) restoreLeftBackups();

  const started = performance.now();
  const mutantsByModule = values['named-only']
    ? new Map(modules.map((m) => [m.name, namedMutants([m])]))
    : await generate(modules, maxPerModule);
  if (values.list) {
    for (const [name, mutants] of mutantsByModule) {
      console.log(`${name}: ${mutants.length} mutants`);
      for (const m of mutants)
        console.log(`  ${m.file}:${m.line}:${m.column} ${m.name ?? m.operator}: ${m.original} -> ${m.replacement}`);
    }
    return 0;
  }

  const work = mkdtempSync(join(tmpdir(), 'imgpipe-mutate-'));
  const stop = (signal: NodeJS.Signals) => {
    for (const pid of running) killGroup(pid);
    rmSync(work, { recursive: true, force: true });
    // In-place runs restore their file in `finally` once the killed test run returns; make sure of it here too.
    if (inPlace) restoreLeftBackups();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const reports: ModuleReport[] = [];
  try {
    for (const module of modules) {
      const mutants = mutantsByModule.get(module.name) ?? [];
      const files = expand(module.files, `source files of ${module.name}`);
      const tests = expand(module.tests, `tests of ${module.name}`, false);
      if (tests.length === 0) {
        // Nothing can kill a mutant of a module without unit tests.
        console.error(`${module.name}: ${mutants.length} mutants, no unit tests`);
        const outcomes = mutants.map((mutant): Outcome => ({ mutant, status: 'not-loaded', ms: 0 }));
        reports.push({
          ...emptyReport(module.name, files, tests, mutants.length),
          notLoaded: mutants.length,
          outcomes,
        });
        continue;
      }
      const baseline = await runTests(tests, process.env, 300_000);
      if (baseline.exitCode !== 0) {
        console.error(baseline.output);
        throw new Error(`the tests of ${module.name} fail without any mutant; fix them first`);
      }
      const timeoutMs = Math.round(baseline.ms * timeoutFactor + 5000);
      console.error(
        `${module.name}: ${mutants.length} mutants, ${tests.length} test file(s), clean run ${Math.round(baseline.ms)} ms`,
      );
      let done = 0;
      const outcomes = await pool(mutants, inPlace ? 1 : jobs, async (mutant) => {
        const outcome = inPlace
          ? await runInPlace(mutant, tests, timeoutMs)
          : await runInMemory(mutant, tests, timeoutMs, work);
        done++;
        if (process.stderr.isTTY) process.stderr.write(`\r  ${done}/${mutants.length}`);
        else if (done % 50 === 0) process.stderr.write(`  ${done}/${mutants.length}\n`);
        return outcome;
      });
      if (process.stderr.isTTY) process.stderr.write('\r');
      const count = (status: Status) => outcomes.filter((o) => o.status === status).length;
      const killed = count('killed');
      const timeout = count('timeout');
      reports.push({
        module: module.name,
        files,
        tests,
        baselineMs: Math.round(baseline.ms),
        mutants: mutants.length,
        killed,
        timeout,
        survived: count('survived'),
        notLoaded: count('not-loaded'),
        score: mutants.length === 0 ? 100 : (100 * (killed + timeout)) / mutants.length,
        outcomes,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          seconds: Number(seconds),
          modules: reports.map(({ outcomes, ...report }) => ({
            ...report,
            score: Number(report.score.toFixed(1)),
            named: outcomes
              .filter((o) => o.mutant.name)
              .map((o) => ({ name: o.mutant.name, status: o.status, file: o.mutant.file, line: o.mutant.line })),
            survivors: outcomes
              .filter((o) => o.status === 'survived' || o.status === 'not-loaded')
              .map(({ mutant, status }) => ({
                file: mutant.file,
                line: mutant.line,
                column: mutant.column,
                operator: mutant.name ?? mutant.operator,
                status,
                diff: diffOf(mutant),
              })),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    printTable(reports);
    printDetails(reports);
    console.log(`\n${seconds} s; score = (killed + timeout) / mutants`);
  }
  return 0;
}

if (import.meta.main) {
  process.exitCode = await main();
}
