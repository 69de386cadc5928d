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
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
