#!/usr/bin/env node
// The `imgpipe` command. Sources are TypeScript run by Node's built-in type stripping, so Node 24 is required.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `imgpipe needs Node 24 or newer (this is ${process.version}).\n` +
      'Put one on PATH first:  export PATH="$(bash infra/bin/ensure-node.sh):$PATH"',
  );
  process.exit(2);
}
// V8's compiled code for every module (ours after type stripping, and the packages'), cached on disk and checked
// against each file's contents: `imgpipe analyze` of one image took 1.38-1.43 s with it, 1.51-1.71 s without.
// NODE_COMPILE_CACHE names the directory (default: the OS temporary directory); NODE_DISABLE_COMPILE_CACHE=1 turns
// it off. An unwritable directory only means no cache.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
