/**
 * kafkajs 2.2.4 arms a timer with a negative delay on every request (its throttle deadline starts at -1); Node 24
 * then prints a TimeoutNegativeWarning, which is noise (Node treats the delay as 1 ms). Hide that one warning only.
 */
let installed = false;

export function silenceKafkajsTimeoutWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === 'TimeoutNegativeWarning') return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
