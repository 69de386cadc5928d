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
// kafkajs 2.2.4 computes a negative delay in its request queue on current Node versions, which Node reports as a
// TimeoutNegativeWarning on every start (and clamps to 1 ms, the intended behaviour). Nothing to act on: drop it.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'TimeoutNegativeWarning' || warning?.name === 'TimeoutNegativeWarning') return;
  emitWarning(warning, ...rest);
};
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
